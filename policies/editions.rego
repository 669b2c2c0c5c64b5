# Package huey.resource.editions is the route-level ACL of the edition routes (api.md §2.9, F8
# fixed per DECISIONS §5): everyone signed in reads and compares; admins, educators (school admins
# hold role:educator), LMS and school service accounts create, bulk-load and update editions;
# students, readers, parents, supporters and kiosks may not change the catalogue. Only admins
# hydrate editions from the metadata provider (action hydrate, api.md §2.17: entry 1 alone).
package huey.resource.editions

# The first entry whose permission and principal match decides; no match denies.
decision := "allow" if {
	# 1. Allow role:admin All.
	input.principals["role:admin"]
} else := "allow" if {
	# 2. Allow catalogue editors create, update, batch (F8).
	input.action in {"create", "update", "batch"}
	some p in ["role:educator", "role:lms", "role:school"]
	input.principals[p]
} else := "allow" if {
	# 3. Allow system:authenticated read.
	input.action == "read"
	input.principals["system:authenticated"]
} else := "deny"
