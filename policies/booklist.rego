# Package huey.resource.book_list is the ACL of one booklist (spec/access.md §6.6; resource type "book_list": the type "booklist" stays unknown), with F19
# fixed: a Huey or Regional list is readable by every signed-in account only when its sharing is
# `restricted` or `public` (a `private` one is not). The school principals use the school's
# INTEGER id (F5) and linked service accounts hold school:<id> (F2). input.resource.id is the
# list's uuid; attrs: "type" (PERSONAL|SCHOOL|REGION|HUEY|OTHER_LIST), "sharing"
# (PRIVATE|RESTRICTED|PUBLIC), "user_id" (owner uuid or "") and "school_id" (integer or "").
package huey.resource.book_list

# The first entry whose permission (or All) and principal match decides; no match denies.
decision := "allow" if {
	# 1. Allow role:admin All.
	input.principals["role:admin"]
} else := "allow" if {
	# 2. Allow user:{user_id} All.
	input.resource.attrs.user_id != ""
	input.principals[sprintf("user:%s", [input.resource.attrs.user_id])]
} else := "allow" if {
	# 3. Allow parent:{user_id} All.
	input.resource.attrs.user_id != ""
	input.principals[sprintf("parent:%s", [input.resource.attrs.user_id])]
} else := "deny" if {
	# 4a. Huey, Regional and Other lists are the admins' to change or delete, whatever school
	# they carry (F3; R8: a school's educators and linked accounts could delete them).
	input.action in {"update", "delete"}
	input.resource.attrs.type in {"HUEY", "REGION", "OTHER_LIST"}
} else := "allow" if {
	# 4. Allow educator:{school_id} All.
	input.resource.attrs.school_id != ""
	input.principals[sprintf("educator:%s", [input.resource.attrs.school_id])]
} else := "allow" if {
	# 5. Allow school:{school_id} All (linked LMS and school service accounts, F2).
	input.resource.attrs.school_id != ""
	input.principals[sprintf("school:%s", [input.resource.attrs.school_id])]
} else := "allow" if {
	# 6. Huey or Regional, sharing restricted or public (F19): Allow system:authenticated read.
	input.action == "read"
	input.resource.attrs.type in {"HUEY", "REGION"}
	input.resource.attrs.sharing in {"RESTRICTED", "PUBLIC"}
	input.principals["system:authenticated"]
} else := "allow" if {
	# 7. School lists: Allow student:{school_id} read.
	input.action == "read"
	input.resource.attrs.type == "SCHOOL"
	input.resource.attrs.school_id != ""
	input.principals[sprintf("student:%s", [input.resource.attrs.school_id])]
} else := "deny"
