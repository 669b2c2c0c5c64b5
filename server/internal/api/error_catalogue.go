package api

import "fmt"

// refusal is one entry of the error catalogue: a stable code, logged with
// the refusal (at debug level for a 4xx, README "4xx error codes in logs"), and
// the detail the client reads. The details are the original's, byte for
// byte (api.md: the messages are the contract); never edit one. A detail
// with verbs is a fmt format, filled by format.
type refusal struct {
	code   string
	detail string
}

// format fills the detail's verbs with args.
func (r refusal) format(args ...any) refusal {
	return refusal{code: r.code, detail: fmt.Sprintf(r.detail, args...)}
}

// The error catalogue: every message the API answers a refusal with, by
// area. Codes are snake_case and unique (TestErrorCatalogue); a new message
// gets a new code, and a code once published is never reused.
var (
	// Any route (api.md §0.2–0.3).
	msgNotFound            = refusal{"not_found", "Not Found"}
	msgMethodNotAllowed    = refusal{"method_not_allowed", "Method Not Allowed"}
	msgInternal            = refusal{"internal_error", "Internal Server Error"}
	msgTooManyRequests     = refusal{"too_many_requests", "Too many requests, try again later"}
	msgRequestBodyTooLarge = refusal{"request_body_too_large", "Request body too large"}
	msgBusy                = refusal{"busy", "The service is busy or the request took too long; try again shortly"}
	msgHostileInput        = refusal{"hostile_input", "Input must be UTF-8 text without NUL characters or unpaired surrogates"}

	// Support: why was this refused (GET /decisions/{id}, POST /explain).
	msgDecisionNotFound     = refusal{"decision_not_found", "Decision not found (decisions are kept %s)"}
	msgExplainNoSuchAccount = refusal{"explain_account_not_found", "Account not found"}

	// Authentication and authorization (api.md §0.2, §2.2).
	msgCredentials         = refusal{"credentials_invalid", "Could not validate credentials"}
	msgInsufficientPerms   = refusal{"permission_denied", "Insufficient permissions"}
	msgInsufficientPrivs   = refusal{"privileges_insufficient", "Insufficient privileges"}
	msgRequiresUser        = refusal{"user_required", "API requires a user"}
	msgUnauthorized        = refusal{"unauthorized", "Unauthorized"}
	msgNotAuthenticated    = refusal{"not_authenticated", "Not authenticated"}
	msgFirebaseKeyNotFound = refusal{"firebase_key_not_found", "JWK public Attribute for authorization token not found"}
	msgNotVerified         = refusal{"token_not_verified", "Not verified"}
	msgClaimsInvalid       = refusal{"token_claims_invalid", "Validation Error for Claims"}
	msgNoAccount           = refusal{"account_missing", "No account"}
	msgInactiveUser        = refusal{"user_inactive", "Inactive user"}
	msgInactiveAccount     = refusal{"account_inactive", "Inactive account"}
	msgCurrentUserNotFound = refusal{"current_user_not_found", "User not found"}
	msgClassCodeInvalid    = refusal{"class_code_invalid", "Invalid class group"}
	msgUsernameGeneration  = refusal{"username_generation_failed", "Couldn't generate a unique username for this student"}
	msgAccessUnauthorized  = refusal{"access_unauthorized", "Access is unauthorized"}

	// Users and service accounts (api.md §2.3–2.4).
	msgUserNotFound           = refusal{"user_not_found", "Resource User with id %s not found."}
	msgUserSchoolNotFound     = refusal{"user_school_not_found", "School with the id %s does not exist"}
	msgUsernameExists         = refusal{"username_exists", "Username already exists in this school"}
	msgEmailExists            = refusal{"email_exists", "Email already exists"}
	msgAccountTypePrivileges  = refusal{"account_type_privileges", "Insufficient privileges to modify that account type."}
	msgAccountReferenced      = refusal{"account_referenced", "The account is still referenced (reading activity, supporters or labels); deactivate it instead"}
	msgServiceAccountNotFound = refusal{"service_account_not_found", "ServiceAccount with id %s not found."}

	// Schools (api.md §2.5).
	msgSchoolNotFound          = refusal{"school_not_found", "School with wriveted_id %s not found."}
	msgSchoolCreateFailed      = refusal{"school_create_failed", "Couldn't add school to database. It might already exist? Check the country code."}
	msgSchoolsImportFailed     = refusal{"schools_import_failed", "Error bulk importing schools"}
	msgSchoolAdminRequired     = refusal{"school_admin_required", "User not a school administrator."}
	msgSchoolAdminBound        = refusal{"school_admin_bound", "School already bound to an admin user."}
	msgSchoolHasServiceAccount = refusal{"school_has_service_accounts", "School is linked to service accounts; unlink them before deleting it."}

	// Classes (api.md §2.6).
	msgClassNotFound       = refusal{"class_not_found", "Resource ClassGroup with id %s not found."}
	msgClassesNeedSchool   = refusal{"classes_need_school", "The current account is not allowed to request all classes. Try filtering by your school."}
	msgClassesSchoolDenied = refusal{"classes_school_denied", "The current account is not allowed to view classes associated with that school"}
	msgClassCreateFailed   = refusal{"class_create_failed", "Couldn't add class to school. It might already exist? Check the name."}
	msgClassRenameFailed   = refusal{"class_rename_failed", "Couldn't rename the class. A class with that name might already exist in the school. Check the name."}

	// Catalogue: works, editions, authors, illustrators (api.md §2.7–2.9, §2.17).
	msgWorkNotFound        = refusal{"work_not_found", "Work with id %v not found"}
	msgEditionNotFound     = refusal{"edition_not_found", "Edition with ISBN %s not found."}
	msgEditionExists       = refusal{"edition_exists", "Edition already exists with ISBN %s. Use the PATCH method to update."}
	msgAuthorNotFound      = refusal{"author_not_found", "Author with id %s not found."}
	msgIllustratorNotFound = refusal{"illustrator_not_found", "Illustrator with id %v not found."}
	msgIllustratorExists   = refusal{"illustrator_exists", "Illustrator %s %s already exists"}
	msgISBNInvalid         = refusal{"isbn_invalid", "Invalid isbn"}
	msgISBNInvalidWrite    = refusal{"isbn_invalid_write", "Invalid ISBN"}

	// Collections and their items (api.md §2.11).
	msgCollectionNotFound        = refusal{"collection_not_found", "Resource Collection with id %s not found."}
	msgCollectionEditionNotFound = refusal{"collection_edition_not_found", "Collection %s does not contain edition %s"}
	msgCollectionInputInvalid    = refusal{"collection_input_invalid", "Couldn't process input"}
	msgCollectionDuplicates      = refusal{"collection_duplicates", "Duplicate entries in collection - use ignore_conflicts to ignore this error"}
	msgNoValidISBNs              = refusal{"no_valid_isbns", "No valid ISBNs were found in input"}
	msgUnauthorizedForSchool     = refusal{"collection_school_denied", "Unauthorized to create collection for school"}
	msgUnauthorizedForUser       = refusal{"collection_user_denied", "Unauthorized to create collection for user"}
	msgSchoolHasCollection       = refusal{"school_has_collection", "School already has a collection. If intending to replace it, please use the PUT /collection/{collection_id} endpoint."}
	msgUserHasCollection         = refusal{"user_has_collection", "User already has a collection. If intending to replace it, please use the PUT /collection/{collection_id} endpoint."}
	msgCollectionItemNotFound    = refusal{"collection_item_not_found", "Collection Item with id %d not found."}
	msgCollectionItemExists      = refusal{"collection_item_exists", "ISBN %s already in collection"}
	msgReaderStatusPair          = refusal{"reader_status_pair", "Value error, Must provide reader_id when providing read_status, and vice versa"}
	msgReaderNotAllowed          = refusal{"reader_not_allowed", "The current account is not allowed to perform an operation associated with that reader"}
	msgReaderCannotRead          = refusal{"reader_cannot_read", "The specified reader is not allowed to read that collection"}

	// Booklists (api.md §2.12).
	msgBooklistIDNotFound     = refusal{"booklist_id_not_found", "Booklist with id %s not found"}
	msgBooklistPrivilegedType = refusal{"booklist_privileged_type", "Only admin users may create that type of book list"}
	msgBooklistSlugNotHuey    = refusal{"booklist_slug_not_huey", "A slug can only be provided for a Huey list"}
	msgBooklistSlugRequired   = refusal{"booklist_slug_required", "A slug must be provided for a Public Huey list"}
	msgBooklistNeedSchool     = refusal{"booklist_need_school", "Need to know which school to use"}
	msgBooklistSchoolDenied   = refusal{"booklist_school_denied", "Only school admin accounts may create school book lists"}
	msgBooklistUserDenied     = refusal{"booklist_user_denied", "You lack the permission to create book lists for other users"}
	msgBooklistNeedUser       = refusal{"booklist_need_user", "Only user accounts may create book lists without specifying the user"}
	msgBooklistCreateFailed   = refusal{"booklist_create_failed", "Couldn't create booklist"}
	msgBooklistUpdateFailed   = refusal{"booklist_update_failed", "Booklist update wasn't possible"}
	msgBooklistNotFound       = refusal{"booklist_not_found", "Booklist not found"}
	msgBooklistNotHuey        = refusal{"booklist_not_huey", "Booklist is not a public Huey booklist"}

	// Events and reading feedback (api.md §2.13–2.14).
	msgEventNotFound         = refusal{"event_not_found", "Event with id %s not found"}
	msgEventsGlobal          = refusal{"events_global_denied", "The current account is not allowed to request global events. Try filtering by your school or user."}
	msgEventsFilterUser      = refusal{"events_filter_user_denied", "The current account is not allowed to filter events associated with that user"}
	msgEventsFilterSchool    = refusal{"events_filter_school_denied", "The current account is not allowed to filter events associated with that school"}
	msgEventCreateUser       = refusal{"event_create_user_denied", "The current account is not allowed to perform an operation associated with that user"}
	msgEventCreateSchool     = refusal{"event_create_school_denied", "The current account is not allowed to create an event associated with that school"}
	msgEventsFilterProblem   = refusal{"events_filter_problem", "Problem filtering events"}
	msgFeedbackNotReadingLog = refusal{"feedback_not_reading_log", "The event is not a reading log event"}
	msgFeedbackNotSupporter  = refusal{"feedback_not_supporter", "Supporter not currently associated with reader"}
	msgFeedbackAlreadySent   = refusal{"feedback_already_sent", "Feedback already submitted for this reading log event"}
)
