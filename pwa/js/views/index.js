// Screens by the first part of the address (#/a/<id>/history ...). Each is
// loaded when first needed, so the first load stays small.

const lazy = (path) => async (context) => (await import(path)).default(context);

export const routes = {
  "": lazy("./list.js"),
  signin: lazy("./auth.js"),
  signup: lazy("./auth.js"),
  new: lazy("./design.js"),
  a: lazy("./alliance.js"),
  devices: lazy("./devices.js"),
  join: lazy("./join.js"),
  allies: lazy("./allies.js"),
  reminders: lazy("./reminders.js"),
};
