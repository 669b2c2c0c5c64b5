package api

import (
	"strings"
	"testing"

	"github.com/wriveted/huey-api/schema/queries"
)

// queries.FeedbackSent spells the title of the feedback event in SQL; it must
// be the one postFeedback records.
func TestFeedbackSentTitleInQuery(t *testing.T) {
	t.Parallel()
	if !strings.Contains(queries.FeedbackSent, "'"+feedbackSentTitle+"'") {
		t.Fatalf("queries.FeedbackSent does not name %q", feedbackSentTitle)
	}
}
