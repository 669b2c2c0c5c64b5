# Package huey.resource.class is the ACL of one class group (spec/access.md §6.3), with F5
# fixed: the school principals are built from the school's INTEGER id, which the server passes
# as attrs.school_id (from the class's school; "" when the class has no school), so the school's
# educators and school admins manage its classes and its students read them. The original's
# dead entries (`class:{id}` read, never issued; `system:authenticated` bind, never asked) are
# gone. input.resource.id is the class's uuid.
package huey.resource.class

# The first entry whose permission (or All) and principal match decides; no match denies.
decision := "allow" if {
	# 1. Allow role:admin All.
	input.principals["role:admin"]
} else := "allow" if {
	# 2. Allow educator:{school_id} All (F5: educators and school admins of the class's school).
	input.resource.attrs.school_id != ""
	input.principals[sprintf("educator:%s", [input.resource.attrs.school_id])]
} else := "allow" if {
	# 3. Allow student:{school_id} read (F5: the school's students read its classes).
	input.action == "read"
	input.resource.attrs.school_id != ""
	input.principals[sprintf("student:%s", [input.resource.attrs.school_id])]
} else := "deny"
