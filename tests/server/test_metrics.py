"""GET /metrics: Prometheus text, open without a token, labelled by route
template (never the raw path, which can hold ids and secrets)."""

from dataclasses import replace
from uuid import uuid4

from litestar.testing import TestClient
from prometheus_client.parser import text_string_to_metric_families

from people import Person
from server.app import create_app


def scrape(client) -> tuple[str, dict]:
    """The /metrics text, and {(sample name, sorted labels): value}."""
    response = client.get("/metrics")  # no Authorization header: it is open
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(response.text) for s in family.samples}
    return response.text, samples


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_pushes_and_requests_by_route_template_without_secrets(settings):
    with TestClient(create_app(replace(settings, auth_per_minute=1000))) as client:
        _, before = scrape(client)  # the counters are per process: other tests may have counted already
        ann = Person(client, "Ann")
        aid = str(uuid4())
        results = ann.push(("create_alliance", aid, {"title": "Coaching with Ann", "template": "coaching"}),
                           ("make_commitment", aid, {"no such argument": 1}))
        assert [r["status"] for r in results] == ["applied", "rejected"]
        assert ann.get(f"/alliances/{aid}").status_code == 200
        assert client.get("/api/v1/auth/me").status_code == 401  # no token: counted with its status

        text, after = scrape(client)

    def grew(name: str, **labels) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("alliance_push_mutations_total", status="applied") == 1
    assert grew("alliance_push_mutations_total", status="rejected") == 1
    assert grew("alliance_push_mutations_total", status="conflict") == 0
    assert ("alliance_push_mutations_total", (("status", "duplicate"),)) in after  # shown, at 0 or more
    assert grew("alliance_http_requests_total", method="POST", route="/api/v1/sync/push", status="200") == 1
    assert grew("alliance_http_requests_total", method="GET", route="/api/v1/alliances/{alliance_id}",
                status="200") == 1
    assert grew("alliance_http_requests_total", method="GET", route="/api/v1/auth/me", status="401") == 1
    assert grew("alliance_http_request_duration_seconds_count", method="POST", route="/api/v1/sync/push",
                status="200") == 1
    assert value(after, "alliance_store_size_bytes") > 0
    assert value(after, "alliance_live_clients") >= 0
    assert aid not in text and ann.token not in text and ann.user_id not in text and ann.email not in text


def test_live_streams_are_counted_while_open(settings):
    """The gauge goes up when a `pokes` stream starts and back down when it ends."""
    import asyncio

    from litestar.channels import ChannelsPlugin
    from litestar.channels.backends.memory import MemoryChannelsBackend
    from prometheus_client import REGISTRY

    from server.sync import pokes

    def live() -> float:
        return REGISTRY.get_sample_value("alliance_live_clients")

    async def story() -> None:
        channels = ChannelsPlugin(backend=MemoryChannelsBackend(), arbitrary_channels_allowed=True)
        async with channels:
            start = live()
            stream = pokes(channels, ["user_test"], lambda: True)
            ready = await stream.__anext__()
            assert ready.event == "ready" and live() == start + 1
            await stream.aclose()
            assert live() == start

    asyncio.run(story())
