# Package huey.authz is the single entrypoint: data.huey.authz.allow decides whether the caller's
# principals may perform an action on a resource. It denies by default and dispatches on the
# resource type to the ordered ACL in package huey.resource.<type>.
#
# Input (the Go type policies.Input; built by policies.Engine, never by callers):
#
#   principals  object  the caller's principal set as {"<principal>": true, ...}, so an entry's
#                       principal is one O(1) lookup. Always holds "system:everyone"; see README.md
#                       for the principals of each account kind ("role:admin", "user:<uuid>",
#                       "schooladmin:<school int id>", "school:<school int id>", "parent:<child uuid>", ...).
#   action      string  the permission asked for: read, update, update-state, delete, details, create,
#                       batch, bind, read-collection, change-privileged, magic-link, read-global,
#                       attach-school.
#   resource    object
#     type      string  one instance: "school", "user", "class", "event"; a route-level ACL: "schools",
#                       "users", "classes", "service_accounts", "events". Any other type is denied.
#     id        string  the instance id: a school's integer id ("17"), a user's, class's or event's
#                       uuid; "" for route-level types.
#     attrs     object  string attributes; for "user": "type" (educator|school_admin|student|public|
#                       parent|wriveted|supporter), "school_id" (integer school id or "") and
#                       "parent_id" (uuid or ""); for "class": "school_id" (integer or ""); for
#                       "event": "title", "school_id" (integer or ""), "user_id" (uuid or "") and
#                       "supported" ("true" when the caller actively supports user_id, from the door
#                       huey.event_attrs). Empty for other types.
#
# Example:
#   {"principals": {"system:everyone": true, "system:authenticated": true, "schooladmin:17": true},
#    "action": "read", "resource": {"type": "school", "id": "17", "attrs": {}}}
package huey.authz

# Nothing is allowed unless a resource's ACL says so.
default allow := false

# A resource's ordered ACL decides; resource packages sit under huey.resource so this is no recursion.
allow if data.huey.resource[input.resource.type].decision == "allow"
