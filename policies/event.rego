# Package huey.resource.event is the ACL of one event (spec/access.md §6.7), with F20 fixed: a
# supporter reads the reading-log events ("Reader timeline event: …") of a reader it ACTIVELY
# supports. The original's `supporter:{user_id}` principal is never issued; the server passes
# attrs.supported instead, which the door huey.event_attrs(id) computes for the caller from the
# supporter–reader associations (so the association is never taken from the request).
# input.resource.id is the event's uuid; attrs: "title", "school_id" (integer school id or ""),
# "user_id" (uuid or ""), "supported" ("true" when the caller actively supports user_id).
package huey.resource.event

# The prefix of the reading-log event titles (api.md §2.14).
reading_log_prefix := "Reader timeline event:"

# The first entry whose permission (or All) and principal match decides; no match denies.
decision := "allow" if {
	# 1. Allow role:admin All.
	input.principals["role:admin"]
} else := "allow" if {
	# 2. school_id set: Allow educator:{school_id} read (school admins hold educator: too).
	input.action == "read"
	input.resource.attrs.school_id != ""
	input.principals[sprintf("educator:%s", [input.resource.attrs.school_id])]
} else := "allow" if {
	# 3. user_id set: Allow user:{user_id} read.
	input.action == "read"
	input.resource.attrs.user_id != ""
	input.principals[sprintf("user:%s", [input.resource.attrs.user_id])]
} else := "allow" if {
	# 4. user_id set: Allow parent:{user_id} read.
	input.action == "read"
	input.resource.attrs.user_id != ""
	input.principals[sprintf("parent:%s", [input.resource.attrs.user_id])]
} else := "allow" if {
	# 5. Reading-log events: Allow the reader's active supporters read (F20; the original's
	# supporter:{user_id}, decided on attrs.supported).
	input.action == "read"
	startswith(input.resource.attrs.title, reading_log_prefix)
	input.resource.attrs.user_id != ""
	input.resource.attrs.supported == "true"
	input.principals["system:authenticated"]
} else := "deny"
