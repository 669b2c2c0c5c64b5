# Package huey.resource.works is the route-level ACL of the work routes (access.md §7.3, with F8
# fixed per DECISIONS §5): everyone signed in reads; admins, educators (school admins hold
# role:educator), LMS and school service accounts create and update; only admins delete a work
# or ask for labels (generate-labels is ADMIN in the original).
package huey.resource.works

# The first entry whose permission and principal match decides; no match denies.
decision := "allow" if {
	# 1. Allow role:admin All.
	input.principals["role:admin"]
} else := "allow" if {
	# 2. Allow catalogue editors create, update (F8).
	input.action in {"create", "update"}
	some p in ["role:educator", "role:lms", "role:school"]
	input.principals[p]
} else := "allow" if {
	# 3. Allow system:authenticated read.
	input.action == "read"
	input.principals["system:authenticated"]
} else := "deny"
