# Package huey.resource.collection is the ACL of one collection (spec/access.md §6.4), with F2
# fixed: an LMS account holds All only on the collections of the schools it is linked to
# (role:lms and school:<id>), not on every collection. input.resource.id is the collection's
# uuid; attrs.school_id is the owning school's integer id ("" for a user collection) and
# attrs.user_id the owning user's uuid ("" for a school collection). Creating a collection
# is asked as "create" on the collection it would be.
package huey.resource.collection

# The first entry whose permission (or All) and principal match decides; no match denies.
decision := "allow" if {
	# 1. Allow role:admin All.
	input.principals["role:admin"]
} else := "allow" if {
	# 2. Allow role:lms All, on the collections of its linked schools only (F2).
	input.resource.attrs.school_id != ""
	input.principals["role:lms"]
	input.principals[sprintf("school:%s", [input.resource.attrs.school_id])]
} else := "allow" if {
	# 3. Allow school:{school.id} read.
	input.action == "read"
	input.resource.attrs.school_id != ""
	input.principals[sprintf("school:%s", [input.resource.attrs.school_id])]
} else := "allow" if {
	# 4. Allow schooladmin:{school.id} All.
	input.resource.attrs.school_id != ""
	input.principals[sprintf("schooladmin:%s", [input.resource.attrs.school_id])]
} else := "allow" if {
	# 5. Allow user:{user_id} All.
	input.resource.attrs.user_id != ""
	input.principals[sprintf("user:%s", [input.resource.attrs.user_id])]
} else := "allow" if {
	# 6. Allow parent:{user_id} All.
	input.resource.attrs.user_id != ""
	input.principals[sprintf("parent:%s", [input.resource.attrs.user_id])]
} else := "deny"
