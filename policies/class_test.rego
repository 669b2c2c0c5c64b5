# Tests of class.rego (one class group) through data.huey.authz.allow.
package huey.resource.class_test

# Principal sets of spec/access.md §4 (with F2/F5 fixed); allowed adds system:everyone.
admin := ["system:authenticated", "user:a0", "role:admin"]

backend := ["system:authenticated", "role:admin"]

schooladmin := ["system:authenticated", "user:sa17", "role:educator", "educator:17", "schooladmin:17"]

educator := ["system:authenticated", "user:e17", "role:educator", "educator:17"]

student := ["system:authenticated", "user:s17", "role:reader", "role:student", "student:17", "child:p1"]

reader := ["system:authenticated", "user:r1", "role:reader"]

parent := ["system:authenticated", "user:p1", "parent:s17"]

supporter := ["system:authenticated", "user:sp1"]

lms := ["system:authenticated", "role:lms", "school:17"]

school_sa := ["system:authenticated", "role:school", "role:library", "school:17"]

kiosk := ["system:authenticated", "role:kiosk"]

anonymous := []

# The class's school as the original's ACL named it: by uuid (F5).
school_uuid := "0b6f4a2e-6c1d-4f0e-9a53-4d2b7e3c9a11"

# allowed holds when the principals ps may perform action on a class of school school_id.
allowed(ps, action, school_id) if {
	inp := {
		"principals": {p: true | some p in array.concat(["system:everyone"], ps)},
		"action": action,
		"resource": {"type": "class", "id": "c1", "attrs": {"school_id": school_id}},
	}
	data.huey.authz.allow with input as inp
}

# Entry 1: Allow role:admin All.
test_admin_read_allowed if allowed(admin, "read", "17")

test_admin_update_allowed if allowed(admin, "update", "17")

test_admin_delete_allowed if allowed(admin, "delete", "18")

test_backend_delete_allowed if allowed(backend, "delete", "17")

test_admin_schoolless_class_read_allowed if allowed(admin, "read", "")

test_lms_linked_school_read_denied if not allowed(lms, "read", "17")

test_school_sa_linked_school_read_denied if not allowed(school_sa, "read", "17")

# Entry 2: Allow educator:{school_id} All (F5).
test_f5_educator_own_school_read_allowed if allowed(educator, "read", "17")

test_f5_educator_own_school_update_allowed if allowed(educator, "update", "17")

test_f5_educator_own_school_delete_allowed if allowed(educator, "delete", "17")

test_f5_schooladmin_own_school_update_allowed if allowed(schooladmin, "update", "17")

test_f5_schooladmin_own_school_delete_allowed if allowed(schooladmin, "delete", "17")

test_educator_other_school_read_denied if not allowed(educator, "read", "18")

test_schooladmin_other_school_delete_denied if not allowed(schooladmin, "delete", "18")

test_f5_educator_school_uuid_principal_denied if {
	# A principal built from the school's uuid, as the original's ACL expected, matches nothing
	# issued: the class's school is named by its integer id.
	not allowed(educator, "read", school_uuid)
}

test_educator_schoolless_class_read_denied if not allowed(array.concat(educator, ["educator:"]), "read", "")

# Entry 3: Allow student:{school_id} read (F5).
test_f5_student_own_school_read_allowed if allowed(student, "read", "17")

test_student_own_school_update_denied if not allowed(student, "update", "17")

test_student_own_school_delete_denied if not allowed(student, "delete", "17")

test_student_other_school_read_denied if not allowed(student, "read", "18")

test_student_schoolless_class_read_denied if not allowed(array.concat(student, ["student:"]), "read", "")

# Default deny, and the original's dead entries are gone.
test_reader_read_denied if not allowed(reader, "read", "17")

test_parent_read_denied if not allowed(parent, "read", "17")

test_supporter_read_denied if not allowed(supporter, "read", "17")

test_kiosk_read_denied if not allowed(kiosk, "read", "17")

test_anonymous_read_denied if not allowed(anonymous, "read", "17")

test_class_principal_read_denied if not allowed(["system:authenticated", "class:c1"], "read", "17")

test_authenticated_bind_denied if not allowed(reader, "bind", "17")

test_missing_school_attr_denied if {
	inp := {
		"principals": {p: true | some p in array.concat(["system:everyone"], educator)},
		"action": "read",
		"resource": {"type": "class", "id": "c1", "attrs": {}},
	}
	not data.huey.authz.allow with input as inp
}

test_role_educator_without_school_read_denied if {
	# Route-level role:educator alone does not reach one class: the school principal must match.
	not allowed(["system:authenticated", "role:educator"], "read", "17")
}
