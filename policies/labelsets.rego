# Package huey.resource.labelsets is the route-level ACL of PATCH /labelsets (api.md §2.10, ADMIN
# in the original): only admins (Wriveted admin users, backend service accounts) patch labels.
package huey.resource.labelsets

# The first entry whose permission and principal match decides; no match denies.
decision := "allow" if {
	# 1. Allow role:admin update.
	input.action == "update"
	input.principals["role:admin"]
} else := "deny"
