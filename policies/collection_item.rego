# Package huey.resource.collection_item is the ACL of one collection item, and of the activity
# rows logged on it (spec/access.md §6.5: activity uses its item's ACL), with F5 fixed: the
# school's staff principal is built from the school's integer id (educator:<id>), which accounts
# carry, not its uuid. input.resource.id is the item's integer id; attrs.school_id is the owning
# collection's school integer id ("" for a user collection) and attrs.user_id the owning
# collection's user uuid ("" for a school collection).
package huey.resource.collection_item

# The first entry whose permission (or All) and principal match decides; no match denies.
decision := "allow" if {
	# 1. Allow role:admin All.
	input.principals["role:admin"]
} else := "allow" if {
	# 2. School collection: Allow educator:{school.id} read (F5: the integer id; school admins hold it).
	input.action == "read"
	input.resource.attrs.school_id != ""
	input.principals[sprintf("educator:%s", [input.resource.attrs.school_id])]
} else := "allow" if {
	# 3. User collection: Allow user:{collection.user_id} All.
	input.resource.attrs.user_id != ""
	input.principals[sprintf("user:%s", [input.resource.attrs.user_id])]
} else := "allow" if {
	# 4. User collection: Allow parent:{collection.user_id} read.
	input.action == "read"
	input.resource.attrs.user_id != ""
	input.principals[sprintf("parent:%s", [input.resource.attrs.user_id])]
} else := "deny"
