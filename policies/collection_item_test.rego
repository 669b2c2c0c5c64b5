# Tests of collection_item.rego (one collection item) through data.huey.authz.allow.
package huey.resource.collection_item_test

admin := ["system:authenticated", "user:a0", "role:admin"]

backend := ["system:authenticated", "role:admin"]

schooladmin := ["system:authenticated", "user:sa17", "role:educator", "educator:17", "schooladmin:17"]

educator := ["system:authenticated", "user:e17", "role:educator", "educator:17"]

educator_other := ["system:authenticated", "user:e18", "role:educator", "educator:18"]

student := ["system:authenticated", "user:s17", "role:reader", "role:student", "student:17", "child:p1"]

reader := ["system:authenticated", "user:r1", "role:reader"]

parent := ["system:authenticated", "user:p1", "parent:r1"]

lms := ["system:authenticated", "role:lms", "school:17"]

anonymous := []

allowed(ps, action, school_id, user_id) if {
	inp := {
		"principals": {p: true | some p in array.concat(["system:everyone"], ps)},
		"action": action,
		"resource": {"type": "collection_item", "id": "5", "attrs": {"school_id": school_id, "user_id": user_id}},
	}
	data.huey.authz.allow with input as inp
}

# Entry 1: admins.
test_admin_school_update_allowed if allowed(admin, "update", "17", "")

test_backend_user_update_allowed if allowed(backend, "update", "", "r1")

# Entry 2: the school's staff read (F5: the integer id).
test_f5_educator_read_allowed if allowed(educator, "read", "17", "")

test_f5_schooladmin_read_allowed if allowed(schooladmin, "read", "17", "")

test_educator_update_denied if not allowed(educator, "update", "17", "")

test_educator_other_school_denied if not allowed(educator_other, "read", "17", "")

test_student_read_denied if not allowed(student, "read", "17", "")

test_lms_read_denied if not allowed(lms, "read", "17", "")

# Entry 3: the owner of a user collection, All.
test_owner_read_allowed if allowed(reader, "read", "", "r1")

test_owner_update_allowed if allowed(reader, "update", "", "r1")

test_other_user_denied if not allowed(reader, "read", "", "r2")

# Entry 4: the owner's parents read only.
test_parent_read_allowed if allowed(parent, "read", "", "r1")

test_parent_update_denied if not allowed(parent, "update", "", "r1")

# No match.
test_anonymous_denied if not allowed(anonymous, "read", "", "r1")

test_empty_attrs_denied if not allowed(reader, "read", "", "")
