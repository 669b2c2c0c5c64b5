# Package huey.resource.school is the ACL of one school (spec/access.md §6.2), with findings
# F2 (LMS/school service accounts reach only their linked schools through school:<id>),
# F6 (educators and students read their own school) and F18 (only admins delete a school) fixed.
# input.resource.id is the school's integer id as a string.
package huey.resource.school

# The first entry whose permission (or All) and principal match decides; no match denies.
decision := "allow" if {
	# 1. Allow role:admin All.
	input.principals["role:admin"]
} else := "deny" if {
	# 2. Deny system:everyone delete (F18: only admins delete a school).
	input.action == "delete"
	input.principals["system:everyone"]
} else := "deny" if {
	# 2b. Deny system:everyone update-state (a school starts inactive, F4; only admins
	# activate or deactivate it, so its own staff cannot switch it on).
	input.action == "update-state"
	input.principals["system:everyone"]
} else := "allow" if {
	# 3. Allow schooladmin:{id} All.
	input.resource.id != ""
	input.principals[sprintf("schooladmin:%s", [input.resource.id])]
} else := "allow" if {
	# 4. Allow school:{id} read, read-collection, update, batch, details (F2: per linked school).
	input.action in {"read", "read-collection", "update", "batch", "details"}
	input.resource.id != ""
	input.principals[sprintf("school:%s", [input.resource.id])]
} else := "deny" if {
	# 5. Deny role:student update.
	input.action == "update"
	input.principals["role:student"]
} else := "allow" if {
	# 6. Allow educator:{id} read (F6).
	input.action == "read"
	input.resource.id != ""
	input.principals[sprintf("educator:%s", [input.resource.id])]
} else := "allow" if {
	# 7. Allow student:{id} read (F6).
	input.action == "read"
	input.resource.id != ""
	input.principals[sprintf("student:%s", [input.resource.id])]
} else := "deny"
