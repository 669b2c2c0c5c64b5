# Package huey.resource.users is the route-level ACL of the user routes guarded
# ADMIN in the original (api.md §2.3: GET /users, POST /user, DELETE /user/{id}):
# Wriveted admin users and backend service accounts (role:admin) only.
package huey.resource.users

# The first entry whose permission and principal match decides; no match denies.
decision := "allow" if {
	# 1. Allow role:admin read, create, delete.
	input.action in {"read", "create", "delete"}
	input.principals["role:admin"]
} else := "deny"
