# Package huey.resource.user is the ACL of one user account (spec/access.md §6.1), with F1
# (privileged fields), F7 (educators read their school's students), F10 (magic links only for
# oneself) and F20 (supporters reach themselves) fixed. input.resource.id is the user's uuid;
# attrs: type, school_id (integer school id or ""), parent_id (uuid or "").
package huey.resource.user

# The first entry whose permission (or All) and principal match decides; no match denies.
decision := "allow" if {
	# 0a. magic-link (a 90-day token for the user; F10, R11): Allow an admin that is a user (holds
	# user:<its id>) for any user: no user is more privileged than a Wriveted admin.
	input.action == "magic-link"
	input.principals["role:admin"]
	some p, _ in input.principals
	startswith(p, "user:")
} else := "allow" if {
	# 0b. magic-link: Allow user:{id} (oneself).
	input.action == "magic-link"
	input.resource.id != ""
	input.principals[sprintf("user:%s", [input.resource.id])]
} else := "deny" if {
	# 0c. magic-link: Deny everyone else — service accounts (a backend account holds role:admin but
	# is no user; R11), parents, school admins (F10).
	input.action == "magic-link"
} else := "allow" if {
	# 1. Allow role:admin All.
	input.principals["role:admin"]
} else := "allow" if {
	# 2a. change-privileged (type, school_id, class_group_id, is_active; F1): Allow
	# schooladmin:{school_id} on a school's student, educator or school admin.
	input.action == "change-privileged"
	input.resource.attrs.type in {"student", "educator", "school_admin"}
	input.resource.attrs.school_id != ""
	input.principals[sprintf("schooladmin:%s", [input.resource.attrs.school_id])]
} else := "deny" if {
	# 2b. change-privileged: Deny everyone else, the user itself included (F1).
	input.action == "change-privileged"
} else := "allow" if {
	# 4. Allow user:{id} All (F20: supporters reach their own detail this way).
	input.resource.id != ""
	input.principals[sprintf("user:%s", [input.resource.id])]
} else := "allow" if {
	# 5. Readers (public, student): Allow parent:{id} All.
	input.resource.attrs.type in {"public", "student"}
	input.resource.id != ""
	input.principals[sprintf("parent:%s", [input.resource.id])]
} else := "allow" if {
	# 6a. Students: Allow schooladmin:{school_id} All.
	input.resource.attrs.type == "student"
	input.resource.attrs.school_id != ""
	input.principals[sprintf("schooladmin:%s", [input.resource.attrs.school_id])]
} else := "allow" if {
	# 6b. Students: Allow educator:{school_id} read, details (F7).
	input.resource.attrs.type == "student"
	input.action in {"read", "details"}
	input.resource.attrs.school_id != ""
	input.principals[sprintf("educator:%s", [input.resource.attrs.school_id])]
} else := "allow" if {
	# 7a. Educators and school admins: Allow schooladmin:{school_id} All.
	input.resource.attrs.type in {"educator", "school_admin"}
	input.resource.attrs.school_id != ""
	input.principals[sprintf("schooladmin:%s", [input.resource.attrs.school_id])]
} else := "allow" if {
	# 7b. Educators and school admins: Allow educator:{school_id} read.
	input.resource.attrs.type in {"educator", "school_admin"}
	input.action == "read"
	input.resource.attrs.school_id != ""
	input.principals[sprintf("educator:%s", [input.resource.attrs.school_id])]
} else := "allow" if {
	# 8. Parents: Allow child:{id} read.
	input.resource.attrs.type == "parent"
	input.action == "read"
	input.resource.id != ""
	input.principals[sprintf("child:%s", [input.resource.id])]
} else := "deny"
