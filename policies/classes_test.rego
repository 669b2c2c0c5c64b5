# Tests of classes.rego (the route-level classes ACL) through data.huey.authz.allow.
package huey.resource.classes_test

# Principal sets of spec/access.md §4 (with F2/F5 fixed); allowed adds system:everyone.
admin := ["system:authenticated", "user:a0", "role:admin"]

backend := ["system:authenticated", "role:admin"]

schooladmin := ["system:authenticated", "user:sa17", "role:educator", "educator:17", "schooladmin:17"]

educator := ["system:authenticated", "user:e17", "role:educator", "educator:17"]

student := ["system:authenticated", "user:s17", "role:reader", "role:student", "student:17"]

reader := ["system:authenticated", "user:r1", "role:reader"]

parent := ["system:authenticated", "user:p1", "parent:s17"]

supporter := ["system:authenticated", "user:sp1"]

lms := ["system:authenticated", "role:lms", "school:17"]

school_sa := ["system:authenticated", "role:school", "role:library", "school:17"]

kiosk := ["system:authenticated", "role:kiosk"]

anonymous := []

# allowed holds when the principals ps may perform action on the classes routes.
allowed(ps, action) if {
	inp := {
		"principals": {p: true | some p in array.concat(["system:everyone"], ps)},
		"action": action,
		"resource": {"type": "classes", "id": "", "attrs": {}},
	}
	data.huey.authz.allow with input as inp
}

# Entry 1: Allow role:admin All.
test_admin_read_allowed if allowed(admin, "read")

test_admin_create_allowed if allowed(admin, "create")

test_backend_create_allowed if allowed(backend, "create")

test_lms_create_denied if not allowed(lms, "create")

test_kiosk_create_denied if not allowed(kiosk, "create")

# Entry 2: Allow role:educator All (school admins hold role:educator).
# F6: the school's educators list its classes (the school decision follows in school.rego).
test_f6_educator_read_allowed if allowed(educator, "read")

test_educator_create_allowed if allowed(educator, "create")

test_schooladmin_create_allowed if allowed(schooladmin, "create")

test_schooladmin_read_allowed if allowed(schooladmin, "read")

test_role_schooladmin_alone_create_denied if {
	# The original's role:schooladmin entry is gone: that principal is never issued.
	not allowed(["system:authenticated", "role:schooladmin"], "create")
}

test_reader_create_denied if not allowed(reader, "create")

# Entry 3: Allow role:student read.
# F6: the school's students list its classes.
test_f6_student_read_allowed if allowed(student, "read")

test_student_create_denied if not allowed(student, "create")

test_student_delete_denied if not allowed(student, "delete")

test_reader_read_denied if not allowed(reader, "read")

# Default deny.
test_parent_read_denied if not allowed(parent, "read")

test_supporter_read_denied if not allowed(supporter, "read")

test_lms_read_denied if not allowed(lms, "read")

test_school_sa_read_denied if not allowed(school_sa, "read")

test_kiosk_read_denied if not allowed(kiosk, "read")

test_anonymous_read_denied if not allowed(anonymous, "read")

test_anonymous_create_denied if not allowed(anonymous, "create")
