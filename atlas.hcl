# For people who have the Atlas CLI. The services never need it: they apply the
# same directory with the ariga.io/atlas library (`go run ./server migrate`) and
# record revisions in the same table, so both see the same history.
#
#   atlas migrate status --env local
#   atlas migrate apply  --env local
#   atlas migrate hash   --env local    # after adding a NEW file (or: make migrate-hash)
#
# URLs must not name a search_path: revisions live in schema atlas_schema_revisions.

variable "url" {
  type    = string
  default = getenv("MIGRATION_DATABASE_URL")
}

variable "dev_url" {
  type    = string
  default = getenv("ATLAS_DEV_URL") # an empty scratch database, for `migrate diff` / `lint`
}

env "local" {
  url = var.url
  dev = var.dev_url
  migration {
    dir              = "file://schema/migrations"
    revisions_schema = "atlas_schema_revisions"
  }
}

env "ci" {
  url = var.url
  dev = var.dev_url
  migration {
    dir              = "file://schema/migrations"
    revisions_schema = "atlas_schema_revisions"
  }
}
