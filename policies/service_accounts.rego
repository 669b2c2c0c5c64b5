# Package huey.resource.service_accounts is the route-level ACL of the service-account routes
# (spec/api.md §2.4): GET /service-accounts, POST /service-account and GET, PUT, DELETE
# /service-account/{id}. input.resource.id is "" (no instance-level ACL: the original's is unused,
# access.md §6.8).
#
# The original guards them with ADMIN (a Wriveted admin user or a backend service account; both hold
# role:admin) and DELETE additionally with SUPERUSER (a Wriveted admin *user*: service accounts are
# refused). A user account, and only a user account, holds a user:<uuid> principal (README §1), so
# "role:admin and some user:<uuid>" is a Wriveted admin user and "role:admin without one" a backend
# service account. Actions: read (list, detail), create, update, delete.
package huey.resource.service_accounts

# The first entry whose permission (or All) and principal match decides; no match denies.
decision := "allow" if {
	# 1. Allow role:admin read, create, update (ADMIN: Wriveted admin users and backend service accounts).
	input.action in {"read", "create", "update"}
	input.principals["role:admin"]
} else := "allow" if {
	# 2. Allow role:admin delete, for user accounts only (SUPERUSER: a backend service account holds
	# role:admin but no user:<uuid> principal, so it is refused).
	input.action == "delete"
	input.principals["role:admin"]
	is_user
} else := "deny"

# is_user holds when the caller is a user account: it holds a user:<uuid> principal.
is_user if {
	some p in object.keys(input.principals)
	startswith(p, "user:")
}
