# Tests of user.rego through data.huey.authz.allow, the path production queries.
package huey.resource.user_test

# Principal sets of spec/access.md §4 (with F2/F5 fixed); allowed adds system:everyone.
admin := ["system:authenticated", "user:a0", "role:admin"]

schooladmin := ["system:authenticated", "user:sa17", "role:educator", "educator:17", "schooladmin:17"]

educator := ["system:authenticated", "user:e17", "role:educator", "educator:17"]

student := ["system:authenticated", "user:s17", "role:reader", "role:student", "student:17", "child:p1"]

reader := ["system:authenticated", "user:r1", "role:reader", "child:p1"]

parent := ["system:authenticated", "user:p1", "parent:s17", "parent:r1"]

supporter := ["system:authenticated", "user:sp1"]

lms := ["system:authenticated", "role:lms", "school:17"]

backend := ["system:authenticated", "role:admin"]

anonymous := []

# Target accounts: id and attrs.
t_student := {"id": "s17", "attrs": {"type": "student", "school_id": "17", "parent_id": "p1"}}

t_student18 := {"id": "s18", "attrs": {"type": "student", "school_id": "18", "parent_id": ""}}

t_schoolless_student := {"id": "s0", "attrs": {"type": "student", "school_id": "", "parent_id": ""}}

t_educator := {"id": "e17", "attrs": {"type": "educator", "school_id": "17", "parent_id": ""}}

t_educator2 := {"id": "e17b", "attrs": {"type": "educator", "school_id": "17", "parent_id": ""}}

t_educator18 := {"id": "e18", "attrs": {"type": "educator", "school_id": "18", "parent_id": ""}}

t_schooladmin := {"id": "sa17", "attrs": {"type": "school_admin", "school_id": "17", "parent_id": ""}}

t_reader := {"id": "r1", "attrs": {"type": "public", "school_id": "", "parent_id": "p1"}}

t_reader2 := {"id": "r2", "attrs": {"type": "public", "school_id": "", "parent_id": ""}}

t_parent := {"id": "p1", "attrs": {"type": "parent", "school_id": "", "parent_id": ""}}

t_supporter := {"id": "sp1", "attrs": {"type": "supporter", "school_id": "", "parent_id": ""}}

t_wriveted := {"id": "w1", "attrs": {"type": "wriveted", "school_id": "17", "parent_id": ""}}

# allowed holds when the principals ps may perform action on the user account t.
allowed(ps, action, t) if {
	inp := {
		"principals": {p: true | some p in array.concat(["system:everyone"], ps)},
		"action": action,
		"resource": {"type": "user", "id": t.id, "attrs": t.attrs},
	}
	data.huey.authz.allow with input as inp
}

# Entry 1: Allow role:admin All.
test_admin_delete_allowed if allowed(admin, "delete", t_educator)

test_admin_change_privileged_allowed if allowed(admin, "change-privileged", t_reader)

test_admin_magic_link_allowed if allowed(admin, "magic-link", t_student)

test_admin_update_wriveted_allowed if allowed(admin, "update", t_wriveted)

test_educator_delete_educator_denied if not allowed(educator, "delete", t_educator2)

test_lms_read_student_denied if not allowed(lms, "read", t_student)

# Entry 2: change-privileged only for schooladmin:{school_id} on staff and students (F1).
test_schooladmin_change_privileged_student_allowed if allowed(schooladmin, "change-privileged", t_student)

test_schooladmin_change_privileged_educator_allowed if allowed(schooladmin, "change-privileged", t_educator)

test_schooladmin_change_privileged_school_admin_allowed if allowed(schooladmin, "change-privileged", t_schooladmin)

test_schooladmin_change_privileged_other_school_denied if not allowed(schooladmin, "change-privileged", t_educator18)

test_schooladmin_change_privileged_other_school_student_denied if not allowed(schooladmin, "change-privileged", t_student18)

test_schooladmin_change_privileged_reader_denied if not allowed(schooladmin, "change-privileged", t_reader)

test_schooladmin_change_privileged_wriveted_denied if not allowed(schooladmin, "change-privileged", t_wriveted)

test_schooladmin_change_privileged_schoolless_student_denied if {
	not allowed(array.concat(schooladmin, ["schooladmin:"]), "change-privileged", t_schoolless_student)
}

test_f1_self_change_privileged_denied if not allowed(reader, "change-privileged", t_reader)

test_f1_educator_self_change_privileged_denied if not allowed(educator, "change-privileged", t_educator)

test_f1_parent_change_privileged_child_denied if not allowed(parent, "change-privileged", t_student)

test_f1_educator_change_privileged_student_denied if not allowed(educator, "change-privileged", t_student)

test_f1_supporter_self_change_privileged_denied if not allowed(supporter, "change-privileged", t_supporter)

# Entries 0a–0c: magic-link only by an admin user, or for oneself (F10, R11).
test_r11_admin_magic_link_for_admin_allowed if allowed(admin, "magic-link", t_wriveted)

test_r11_backend_magic_link_for_admin_denied if not allowed(backend, "magic-link", t_wriveted)

test_r11_backend_magic_link_for_student_denied if not allowed(backend, "magic-link", t_student)

test_r11_backend_other_actions_still_allowed if allowed(backend, "update", t_student)

test_r11_lms_magic_link_denied if not allowed(lms, "magic-link", t_student)

test_reader_magic_link_self_allowed if allowed(reader, "magic-link", t_reader)

test_educator_magic_link_self_allowed if allowed(educator, "magic-link", t_educator)

test_f10_parent_magic_link_for_child_denied if not allowed(parent, "magic-link", t_student)

test_f10_schooladmin_magic_link_for_educator_denied if not allowed(schooladmin, "magic-link", t_educator)

test_f10_schooladmin_magic_link_for_student_denied if not allowed(schooladmin, "magic-link", t_student)

test_f10_reader_magic_link_other_denied if not allowed(reader, "magic-link", t_reader2)

# Entry 4: Allow user:{id} All.
test_reader_update_self_allowed if allowed(reader, "update", t_reader)

test_reader_delete_self_allowed if allowed(reader, "delete", t_reader)

test_student_details_self_allowed if allowed(student, "details", t_student)

test_reader_update_other_denied if not allowed(reader, "update", t_reader2)

test_f20_supporter_reads_self_allowed if allowed(supporter, "read", t_supporter)

test_f20_supporter_details_self_allowed if allowed(supporter, "details", t_supporter)

test_supporter_reads_reader_denied if not allowed(supporter, "read", t_reader)

test_wriveted_self_update_allowed if allowed(["system:authenticated", "user:w1", "role:admin"], "update", t_wriveted)

# Entry 5: readers (public, student): Allow parent:{id} All.
test_parent_update_student_child_allowed if allowed(parent, "update", t_student)

test_parent_details_public_child_allowed if allowed(parent, "details", t_reader)

test_parent_delete_public_child_allowed if allowed(parent, "delete", t_reader)

test_parent_update_other_reader_denied if not allowed(parent, "update", t_reader2)

test_parent_principal_on_educator_denied if {
	# parent:{id} counts only for reader accounts.
	not allowed(["system:authenticated", "parent:e17"], "read", t_educator)
}

# Entry 6: students: Allow schooladmin:{school_id} All; Allow educator:{school_id} read, details (F7).
test_schooladmin_update_student_allowed if allowed(schooladmin, "update", t_student)

test_schooladmin_delete_student_allowed if allowed(schooladmin, "delete", t_student)

test_schooladmin_update_other_school_student_denied if not allowed(schooladmin, "update", t_student18)

test_schooladmin_update_schoolless_student_denied if {
	not allowed(array.concat(schooladmin, ["schooladmin:"]), "update", t_schoolless_student)
}

test_f7_educator_reads_student_allowed if allowed(educator, "read", t_student)

test_f7_educator_details_student_allowed if allowed(educator, "details", t_student)

test_educator_update_student_denied if not allowed(educator, "update", t_student)

test_educator_reads_other_school_student_denied if not allowed(educator, "read", t_student18)

test_educator_reads_schoolless_student_denied if {
	not allowed(array.concat(educator, ["educator:"]), "read", t_schoolless_student)
}

test_student_reads_classmate_denied if not allowed(student, "read", {"id": "s17b", "attrs": t_student.attrs})

# Entry 7: educators and school admins: Allow schooladmin:{school_id} All; Allow educator:{school_id} read.
test_schooladmin_update_educator_allowed if allowed(schooladmin, "update", t_educator)

test_schooladmin_delete_school_admin_allowed if allowed(schooladmin, "delete", t_schooladmin)

test_schooladmin_update_other_school_educator_denied if not allowed(schooladmin, "update", t_educator18)

test_educator_reads_educator_allowed if allowed(educator, "read", t_educator2)

test_educator_reads_school_admin_allowed if allowed(educator, "read", t_schooladmin)

test_educator_details_educator_denied if not allowed(educator, "details", t_educator2)

test_educator_update_educator_denied if not allowed(educator, "update", t_educator2)

test_educator_reads_other_school_educator_denied if not allowed(educator, "read", t_educator18)

test_schooladmin_update_wriveted_denied if not allowed(schooladmin, "update", t_wriveted)

test_educator_reads_wriveted_denied if not allowed(educator, "read", t_wriveted)

# Entry 8: parents: Allow child:{id} read.
test_child_reads_parent_allowed if allowed(reader, "read", t_parent)

test_student_child_reads_parent_allowed if allowed(student, "read", t_parent)

test_child_update_parent_denied if not allowed(reader, "update", t_parent)

test_child_details_parent_denied if not allowed(reader, "details", t_parent)

test_child_principal_on_reader_denied if {
	# child:{id} counts only for parent accounts.
	not allowed(["system:authenticated", "child:r2"], "read", t_reader2)
}

# Default deny.
test_anonymous_read_denied if not allowed(anonymous, "read", t_reader)

test_reader_reads_supporter_denied if not allowed(reader, "read", t_supporter)

test_supporter_reads_parent_denied if not allowed(supporter, "read", t_parent)

test_lms_update_educator_denied if not allowed(lms, "update", t_educator)

test_missing_attrs_denied if {
	inp := {
		"principals": {"system:everyone": true, "educator:17": true},
		"action": "read",
		"resource": {"type": "user", "id": "s17"},
	}
	not data.huey.authz.allow with input as inp
}

test_empty_id_denied if {
	not allowed(["system:authenticated", "user:", "parent:", "child:"], "read", {"id": "", "attrs": t_reader2.attrs})
}

test_empty_id_parent_target_denied if {
	not allowed(["system:authenticated", "child:"], "read", {"id": "", "attrs": t_parent.attrs})
}
