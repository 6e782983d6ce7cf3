from litestar.testing import TestClient

from server.app import create_app
from server.settings import Settings


def test_a_phone_can_fetch_every_template_without_signing_in(tmp_path):
    with TestClient(create_app(Settings(data_dir=tmp_path))) as client:
        response = client.get("/api/v1/templates")
    assert response.status_code == 200
    templates = {t["name"]: t for t in response.json()}
    assert list(templates) == ["coaching", "team", "personal", "blank"]
    coaching = templates["coaching"]
    assert coaching["version"] >= 1
    assert [s["kind"] for s in coaching["sections"]][-3:] == ["commitments", "review", "consent"]
    assert coaching["sections"][0]["questions"][0]["key"] == "purpose.why"
