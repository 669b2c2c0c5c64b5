-- Baseline schema for the Huey Books API.
--
-- This is the schema that the original Wriveted API's Alembic migration chain
-- produces at head revision 3252097e86db, restricted to the in-scope tables of
-- spec/domain.md (users and their subtype tables, service accounts, countries,
-- schools, class groups, the catalogue, labels, collections, booklists, events,
-- products, subscriptions, event_outbox and task_idempotency_records), with
-- their enum types, functions, triggers, materialized views and seed rows.
-- The out-of-scope tables of domain.md section 13 (CMS, chat flows, analytics,
-- webhooks, traces, themes) are not created here.
--
-- A database that was created by the original service already has all of this.
-- Do not run this file against it: mark the database as being at this version
-- instead, with
--
--     go run ./server migrate -baseline 20261127000001
--
-- Differences from the original, on purpose:
--   * update_edition_title() and update_edition_title_from_work() implement the
--     intended semantics (the original joins works without a predicate).
--   * hues are seeded with the 13 HueKeys of the API (DECISIONS.md section 6).
--
-- Roles, grants, row-level security and policies are added by a later migration.
-- The runner wraps this file in a single transaction.

-- ---------------------------------------------------------------------------
-- Enum types (labels are the member NAMEs, in declaration order)
-- ---------------------------------------------------------------------------

CREATE TYPE public.enum_user_account_type AS ENUM (
    'EDUCATOR', 'PARENT', 'PUBLIC', 'SCHOOL_ADMIN', 'STUDENT', 'SUPPORTER', 'WRIVETED'
);

CREATE TYPE public.serviceaccounttype AS ENUM ('BACKEND', 'LMS', 'SCHOOL', 'KIOSK');

CREATE TYPE public.schoolstate AS ENUM ('PENDING', 'ACTIVE', 'INACTIVE');

CREATE TYPE public.schoolbookbottype AS ENUM ('SCHOOL_BOOKS', 'HUEY_BOOKS');

CREATE TYPE public.worktype AS ENUM ('BOOK', 'PODCAST');

CREATE TYPE public.enum_book_list_type AS ENUM ('PERSONAL', 'SCHOOL', 'REGION', 'HUEY', 'OTHER_LIST');

CREATE TYPE public.enum_book_list_sharing AS ENUM ('PRIVATE', 'RESTRICTED', 'PUBLIC');

CREATE TYPE public.enum_collection_item_read_status AS ENUM (
    'UNREAD', 'TO_READ', 'NOT_INTERESTED', 'READING', 'STOPPED_READING', 'READ'
);

CREATE TYPE public.eventlevel AS ENUM ('DEBUG', 'NORMAL', 'WARNING', 'ERROR');

CREATE TYPE public.labelorigin AS ENUM (
    'HUMAN', 'GPT4', 'PREDICTED_NIELSEN', 'NIELSEN_CBMC', 'NIELSEN_BIC', 'NIELSEN_THEMA',
    'NIELSEN_IA', 'NIELSEN_RA', 'CLUSTER_RELEVANCE', 'CLUSTER_ZAINAB', 'OTHER', 'VERTEXAI'
);

CREATE TYPE public.recommendstatus AS ENUM (
    'GOOD', 'BAD_BORING', 'BAD_REFERENCE', 'BAD_CONTROVERSIAL', 'BAD_LOW_QUALITY'
);

CREATE TYPE public.ordinal AS ENUM ('PRIMARY', 'SECONDARY', 'TERTIARY');

CREATE TYPE public.enum_subscription_type AS ENUM ('FAMILY', 'LIBRARY', 'SCHOOL');

CREATE TYPE public.enum_subscription_provider AS ENUM ('STRIPE');

CREATE TYPE public.eventoutboxstatus AS ENUM ('PENDING', 'PROCESSING', 'PUBLISHED', 'FAILED', 'DEAD_LETTER');

CREATE TYPE public.eventoutboxpriority AS ENUM ('LOW', 'NORMAL', 'HIGH', 'CRITICAL');

CREATE TYPE public.enum_task_execution_status AS ENUM ('PROCESSING', 'COMPLETED', 'FAILED');

-- Legacy types: no column uses them.
CREATE TYPE public.readingability AS ENUM (
    'SPOT', 'CAT_HAT', 'TREEHOUSE', 'CHARLIE_CHOCOLATE', 'HARRY_POTTER'
);

CREATE TYPE public.doecode AS ENUM (
    'DOE_2G', 'DOE_2H', 'DOE_2I', 'DOE_2J', 'DOE_2K', 'DOE_2L',
    'DOE_3G', 'DOE_3H', 'DOE_3I', 'DOE_3J', 'DOE_3K', 'DOE_3L',
    'DOE_4G', 'DOE_4H', 'DOE_4I', 'DOE_4J', 'DOE_4K', 'DOE_4L'
);

-- ---------------------------------------------------------------------------
-- Schools and classes (domain.md section 5)
-- ---------------------------------------------------------------------------

CREATE TABLE public.countries (
    id character varying(3) NOT NULL,
    phonecode smallint NOT NULL,
    name character varying(100) NOT NULL,
    CONSTRAINT countries_pkey PRIMARY KEY (id)
);

CREATE INDEX ix_countries_id ON public.countries USING btree (id);

CREATE TABLE public.schools (
    id serial NOT NULL,
    country_code character varying(3),
    official_identifier character varying(512),
    state public.schoolstate NOT NULL,
    name character varying(256) NOT NULL,
    student_domain character varying(256),
    teacher_domain character varying(256),
    info jsonb,
    wriveted_identifier uuid DEFAULT gen_random_uuid() NOT NULL,
    bookbot_type public.schoolbookbottype DEFAULT 'HUEY_BOOKS'::public.schoolbookbottype NOT NULL,
    lms_type character varying(50) DEFAULT 'none'::character varying NOT NULL,
    created_at timestamp without time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    updated_at timestamp without time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    CONSTRAINT schools_pkey PRIMARY KEY (id),
    CONSTRAINT fk_school_country FOREIGN KEY (country_code) REFERENCES public.countries (id)
);

CREATE INDEX ix_schools_country_code ON public.schools USING btree (country_code);
CREATE UNIQUE INDEX ix_schools_country_code_official_identifier ON public.schools USING btree (country_code, official_identifier);
CREATE UNIQUE INDEX ix_schools_wriveted_identifier ON public.schools USING btree (wriveted_identifier);

CREATE TABLE public.class_groups (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    school_id uuid,
    name character varying(256) NOT NULL,
    join_code character varying(6),
    created_at timestamp without time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    updated_at timestamp without time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    CONSTRAINT class_groups_pkey PRIMARY KEY (id),
    CONSTRAINT uq_class_groups_name_school_id UNIQUE (name, school_id),
    CONSTRAINT fk_class_groups_school FOREIGN KEY (school_id)
        REFERENCES public.schools (wriveted_identifier) ON DELETE CASCADE
);

CREATE INDEX ix_class_groups_school_id ON public.class_groups USING btree (school_id);

-- ---------------------------------------------------------------------------
-- User accounts, joined-table inheritance (domain.md section 3)
-- ---------------------------------------------------------------------------

CREATE TABLE public.users (
    id uuid NOT NULL,
    is_active boolean NOT NULL,
    email character varying,
    name character varying NOT NULL,
    info jsonb,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    type public.enum_user_account_type DEFAULT 'PUBLIC'::public.enum_user_account_type NOT NULL,
    newsletter boolean DEFAULT false NOT NULL,
    last_login_at timestamp without time zone,
    CONSTRAINT users_pkey PRIMARY KEY (id)
);

CREATE UNIQUE INDEX ix_users_id ON public.users USING btree (id);
CREATE UNIQUE INDEX ix_users_email ON public.users USING btree (email);
CREATE INDEX ix_users_type ON public.users USING btree (type);

CREATE TABLE public.parents (
    id uuid NOT NULL,
    parent_info jsonb,
    CONSTRAINT parents_pkey PRIMARY KEY (id),
    CONSTRAINT fk_parent_inherits_user FOREIGN KEY (id) REFERENCES public.users (id) ON DELETE CASCADE
);

CREATE TABLE public.readers (
    id uuid NOT NULL,
    parent_id uuid,
    huey_attributes jsonb,
    first_name character varying,
    last_name_initial character varying,
    CONSTRAINT readers_pkey PRIMARY KEY (id),
    CONSTRAINT fk_reader_inherits_user FOREIGN KEY (id) REFERENCES public.users (id) ON DELETE CASCADE,
    CONSTRAINT fk_reader_parent FOREIGN KEY (parent_id) REFERENCES public.parents (id)
);

CREATE INDEX ix_readers_parent_id ON public.readers USING btree (parent_id);

CREATE TABLE public.public_readers (
    id uuid NOT NULL,
    reader_info jsonb,
    CONSTRAINT public_readers_pkey PRIMARY KEY (id),
    CONSTRAINT fk_public_reader_inherits_reader FOREIGN KEY (id) REFERENCES public.readers (id) ON DELETE CASCADE
);

CREATE TABLE public.students (
    id uuid NOT NULL,
    school_id integer NOT NULL,
    student_info jsonb,
    class_group_id uuid NOT NULL,
    username character varying NOT NULL,
    CONSTRAINT students_pkey PRIMARY KEY (id),
    CONSTRAINT uq_students_username_school_id UNIQUE (username, school_id),
    CONSTRAINT fk_student_inherits_reader FOREIGN KEY (id) REFERENCES public.readers (id) ON DELETE CASCADE,
    CONSTRAINT fk_student_school FOREIGN KEY (school_id) REFERENCES public.schools (id) ON DELETE CASCADE,
    CONSTRAINT fk_student_class_group FOREIGN KEY (class_group_id) REFERENCES public.class_groups (id) ON DELETE CASCADE
);

CREATE INDEX ix_students_school_id ON public.students USING btree (school_id);
CREATE INDEX ix_students_class_group_id ON public.students USING btree (class_group_id);
CREATE INDEX ix_students_username ON public.students USING btree (username);

CREATE TABLE public.educators (
    id uuid NOT NULL,
    school_id integer NOT NULL,
    educator_info json,
    CONSTRAINT educators_pkey PRIMARY KEY (id),
    CONSTRAINT fk_educator_inherits_user FOREIGN KEY (id) REFERENCES public.users (id) ON DELETE CASCADE,
    CONSTRAINT fk_educator_school FOREIGN KEY (school_id) REFERENCES public.schools (id) ON DELETE CASCADE
);

CREATE INDEX ix_educators_school_id ON public.educators USING btree (school_id);

CREATE TABLE public.school_admins (
    id uuid NOT NULL,
    school_admin_info jsonb,
    CONSTRAINT school_admins_pkey PRIMARY KEY (id),
    CONSTRAINT fk_school_admin_inherits_educator FOREIGN KEY (id) REFERENCES public.educators (id) ON DELETE CASCADE
);

CREATE TABLE public.wriveted_admins (
    id uuid NOT NULL,
    wriveted_admin_info jsonb,
    CONSTRAINT wriveted_admins_pkey PRIMARY KEY (id),
    CONSTRAINT fk_wriveted_admin_inherits_user FOREIGN KEY (id) REFERENCES public.users (id) ON DELETE CASCADE
);

CREATE TABLE public.supporters (
    id uuid NOT NULL,
    supporter_info jsonb,
    CONSTRAINT supporters_pkey PRIMARY KEY (id),
    CONSTRAINT fk_supporter_inherits_user FOREIGN KEY (id) REFERENCES public.users (id) ON DELETE CASCADE
);

CREATE TABLE public.supporter_reader_association (
    supporter_id uuid NOT NULL,
    reader_id uuid NOT NULL,
    is_active boolean NOT NULL,
    allow_phone boolean DEFAULT false NOT NULL,
    allow_email boolean DEFAULT true NOT NULL,
    supporter_nickname character varying NOT NULL,
    CONSTRAINT supporter_reader_association_pkey PRIMARY KEY (supporter_id, reader_id),
    CONSTRAINT fk_supporter_reader_assoc_supporter_id FOREIGN KEY (supporter_id) REFERENCES public.users (id),
    CONSTRAINT fk_supporter_reader_assoc_reader_id FOREIGN KEY (reader_id) REFERENCES public.readers (id)
);

-- ---------------------------------------------------------------------------
-- Service accounts (domain.md section 4)
-- ---------------------------------------------------------------------------

CREATE TABLE public.service_accounts (
    id uuid NOT NULL,
    name character varying NOT NULL,
    is_active boolean NOT NULL,
    type public.serviceaccounttype NOT NULL,
    info jsonb,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    CONSTRAINT service_accounts_pkey PRIMARY KEY (id)
);

CREATE UNIQUE INDEX ix_service_accounts_id ON public.service_accounts USING btree (id);
CREATE INDEX ix_service_accounts_type ON public.service_accounts USING btree (type);

CREATE TABLE public.service_account_school_association (
    service_account_id uuid NOT NULL,
    school_id integer NOT NULL,
    CONSTRAINT service_account_school_association_pkey PRIMARY KEY (service_account_id, school_id),
    CONSTRAINT fk_service_account_school_association_service_account FOREIGN KEY (service_account_id)
        REFERENCES public.service_accounts (id),
    CONSTRAINT fk_service_account_school_association_school FOREIGN KEY (school_id)
        REFERENCES public.schools (id)
);

-- ---------------------------------------------------------------------------
-- Catalogue (domain.md section 6)
-- ---------------------------------------------------------------------------

CREATE TABLE public.authors (
    id serial NOT NULL,
    first_name character varying(200),
    last_name character varying(200) NOT NULL,
    info jsonb,
    name_key character varying(400) GENERATED ALWAYS AS (
        lower(regexp_replace(COALESCE(first_name, '') || last_name, '\W|_', '', 'g'))
    ) STORED,
    CONSTRAINT authors_pkey PRIMARY KEY (id)
);

CREATE INDEX ix_authors_first_name ON public.authors USING btree (first_name);
CREATE INDEX ix_authors_last_name ON public.authors USING btree (last_name);
CREATE UNIQUE INDEX ix_authors_name_key ON public.authors USING btree (name_key);

CREATE TABLE public.illustrators (
    id serial NOT NULL,
    first_name character varying(200),
    last_name character varying(200) NOT NULL,
    info jsonb,
    name_key character varying(400) GENERATED ALWAYS AS (
        lower(regexp_replace(COALESCE(first_name, '') || last_name, '\W|_', '', 'g'))
    ) STORED,
    CONSTRAINT illustrators_pkey PRIMARY KEY (id)
);

CREATE INDEX ix_illustrators_first_name ON public.illustrators USING btree (first_name);
CREATE INDEX ix_illustrators_last_name ON public.illustrators USING btree (last_name);
CREATE UNIQUE INDEX ix_illustrators_name_key ON public.illustrators USING btree (name_key);

CREATE TABLE public.series (
    id serial NOT NULL,
    title character varying(512) NOT NULL,
    info jsonb,
    title_key character varying(512) GENERATED ALWAYS AS (
        lower(regexp_replace(lower(title), '(^(\w*the ))|(^(\w*a ))|[^a-z0-9]', '', 'g'))
    ) STORED,
    CONSTRAINT series_pkey PRIMARY KEY (id)
);

CREATE UNIQUE INDEX ix_series_title ON public.series USING btree (title);
CREATE UNIQUE INDEX ix_series_title_key ON public.series USING btree (title_key);

CREATE TABLE public.works (
    id serial NOT NULL,
    type public.worktype NOT NULL,
    title character varying(512) NOT NULL,
    info jsonb,
    leading_article character varying(20),
    subtitle character varying(512),
    CONSTRAINT works_pkey PRIMARY KEY (id)
);

CREATE INDEX ix_works_title ON public.works USING btree (title);

CREATE TABLE public.editions (
    id serial NOT NULL,
    work_id integer,
    edition_title character varying(512),
    isbn character varying(200) NOT NULL,
    cover_url character varying(200),
    info jsonb,
    leading_article character varying(20),
    date_published integer,
    edition_subtitle character varying(512),
    hydrated_at timestamp without time zone,
    hydrated boolean GENERATED ALWAYS AS (hydrated_at IS NOT NULL) STORED,
    title character varying(512),
    CONSTRAINT editions_pkey PRIMARY KEY (id),
    CONSTRAINT fk_editions_works FOREIGN KEY (work_id) REFERENCES public.works (id)
);

CREATE INDEX ix_editions_work_id ON public.editions USING btree (work_id);
CREATE UNIQUE INDEX ix_editions_isbn ON public.editions USING btree (isbn);
CREATE INDEX ix_editions_hydrated ON public.editions USING btree (hydrated);
CREATE INDEX ix_editions_title ON public.editions USING btree (title);

CREATE TABLE public.author_work_association (
    work_id integer NOT NULL,
    author_id integer NOT NULL,
    CONSTRAINT author_work_association_pkey PRIMARY KEY (work_id, author_id),
    CONSTRAINT fk_author_works_association_work_id FOREIGN KEY (work_id) REFERENCES public.works (id),
    CONSTRAINT fk_author_works_association_author_id FOREIGN KEY (author_id) REFERENCES public.authors (id)
);

CREATE TABLE public.illustrator_edition_association (
    edition_id integer NOT NULL,
    illustrator_id integer NOT NULL,
    CONSTRAINT illustrator_edition_association_pkey PRIMARY KEY (edition_id, illustrator_id),
    CONSTRAINT fk_illustrator_editions_assoc_edition_id FOREIGN KEY (edition_id) REFERENCES public.editions (id),
    CONSTRAINT fk_illustrator_editions_assoc_illustrator_id FOREIGN KEY (illustrator_id) REFERENCES public.illustrators (id)
);

-- The FK to series carries, by a legacy quirk, the illustrator association's FK name.
CREATE TABLE public.series_works_association (
    series_id integer NOT NULL,
    work_id integer NOT NULL,
    primary_works boolean,
    order_id integer,
    CONSTRAINT series_works_association_pkey PRIMARY KEY (series_id, work_id),
    CONSTRAINT fk_illustrator_editions_assoc_illustrator_id FOREIGN KEY (series_id) REFERENCES public.series (id),
    CONSTRAINT fk_series_works_assoc_work_id FOREIGN KEY (work_id) REFERENCES public.works (id)
);

CREATE INDEX ix_series_works_association_work_id ON public.series_works_association USING btree (work_id);

-- ---------------------------------------------------------------------------
-- Labels (domain.md section 7)
-- ---------------------------------------------------------------------------

CREATE TABLE public.hues (
    id serial NOT NULL,
    name character varying(128) NOT NULL,
    key character varying(50) NOT NULL,
    info jsonb,
    CONSTRAINT hues_pkey PRIMARY KEY (id),
    CONSTRAINT uq_hues_name UNIQUE (name)
);

CREATE UNIQUE INDEX ix_hues_key ON public.hues USING btree (key);

CREATE TABLE public.reading_abilities (
    id serial NOT NULL,
    key character varying(50) NOT NULL,
    name character varying(128) NOT NULL,
    CONSTRAINT reading_abilities_pkey PRIMARY KEY (id),
    CONSTRAINT reading_abilities_name_key UNIQUE (name)
);

CREATE UNIQUE INDEX ix_reading_abilities_key ON public.reading_abilities USING btree (key);

CREATE TABLE public.labelsets (
    id serial NOT NULL,
    work_id integer,
    min_age integer,
    max_age integer,
    checked boolean,
    labelled_by_user_id uuid,
    labelled_by_sa_id uuid,
    info jsonb,
    recommend_status public.recommendstatus DEFAULT 'GOOD'::public.recommendstatus NOT NULL,
    hue_origin public.labelorigin,
    reading_ability_origin public.labelorigin,
    age_origin public.labelorigin,
    recommend_status_origin public.labelorigin,
    huey_summary text,
    summary_origin public.labelorigin,
    created_at timestamp without time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    updated_at timestamp without time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    checked_at timestamp without time zone,
    CONSTRAINT labelsets_pkey PRIMARY KEY (id),
    CONSTRAINT fk_labelset_work FOREIGN KEY (work_id) REFERENCES public.works (id),
    CONSTRAINT "fk_labeller-user_labelset" FOREIGN KEY (labelled_by_user_id) REFERENCES public.users (id),
    CONSTRAINT "fk_labeller-sa_labelset" FOREIGN KEY (labelled_by_sa_id) REFERENCES public.service_accounts (id)
);

CREATE INDEX ix_labelsets_work_id ON public.labelsets USING btree (work_id);
CREATE INDEX ix_labelsets_work_id_id ON public.labelsets USING btree (work_id, id DESC);
CREATE INDEX ix_labelsets_min_age_max_age ON public.labelsets USING btree (min_age, max_age)
    WHERE (min_age IS NOT NULL AND max_age IS NOT NULL);
CREATE INDEX ix_labelset_user_id ON public.labelsets USING btree (labelled_by_user_id)
    WHERE (labelled_by_user_id IS NOT NULL);
CREATE INDEX ix_labelset_service_account_id ON public.labelsets USING btree (labelled_by_sa_id)
    WHERE (labelled_by_sa_id IS NOT NULL);
CREATE INDEX ix_labelsets_recommend_status ON public.labelsets USING btree (recommend_status)
    WHERE (recommend_status = 'GOOD'::public.recommendstatus);

CREATE TABLE public.labelset_hue_association (
    labelset_id integer NOT NULL,
    hue_id integer NOT NULL,
    ordinal public.ordinal NOT NULL,
    CONSTRAINT labelset_hue_association_pkey PRIMARY KEY (labelset_id, hue_id, ordinal),
    CONSTRAINT fk_labelset_hue_association_labelset_id FOREIGN KEY (labelset_id) REFERENCES public.labelsets (id),
    CONSTRAINT fk_labelset_hue_association_hue_id FOREIGN KEY (hue_id) REFERENCES public.hues (id)
);

CREATE TABLE public.labelset_reading_ability_association (
    labelset_id integer NOT NULL,
    reading_ability_id integer NOT NULL,
    CONSTRAINT labelset_reading_ability_association_pkey PRIMARY KEY (labelset_id, reading_ability_id),
    CONSTRAINT fk_labelset_reading_ability_association_labelset_id FOREIGN KEY (labelset_id)
        REFERENCES public.labelsets (id),
    CONSTRAINT fk_labelset_reading_ability_association_reading_ability_id FOREIGN KEY (reading_ability_id)
        REFERENCES public.reading_abilities (id)
);

-- ---------------------------------------------------------------------------
-- Collections (domain.md section 8)
-- ---------------------------------------------------------------------------

CREATE TABLE public.collections (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    school_id uuid,
    user_id uuid,
    name character varying(200) NOT NULL,
    info jsonb,
    created_at timestamp without time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    updated_at timestamp without time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    CONSTRAINT collections_pkey PRIMARY KEY (id),
    CONSTRAINT fk_school_collection FOREIGN KEY (school_id)
        REFERENCES public.schools (wriveted_identifier) ON DELETE CASCADE,
    CONSTRAINT fk_user_collection FOREIGN KEY (user_id) REFERENCES public.users (id) ON DELETE CASCADE
);

CREATE UNIQUE INDEX ix_collections_id ON public.collections USING btree (id);
CREATE INDEX ix_collections_school_id ON public.collections USING btree (school_id);
CREATE INDEX ix_collections_user_id ON public.collections USING btree (user_id);
CREATE INDEX ix_collections_name ON public.collections USING btree (name);

CREATE TABLE public.collection_items (
    id serial NOT NULL,
    info jsonb,
    copies_available integer NOT NULL,
    copies_total integer NOT NULL,
    edition_isbn character varying(200),
    collection_id uuid NOT NULL,
    created_at timestamp without time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    updated_at timestamp without time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    CONSTRAINT collection_items_pkey PRIMARY KEY (id),
    CONSTRAINT uq_collection_items_collection_id_edition_isbn UNIQUE (collection_id, edition_isbn),
    CONSTRAINT fk_collection_items_edition_isbn FOREIGN KEY (edition_isbn)
        REFERENCES public.editions (isbn) ON DELETE CASCADE,
    CONSTRAINT fk_collection_items_collection_id FOREIGN KEY (collection_id)
        REFERENCES public.collections (id) ON UPDATE CASCADE ON DELETE CASCADE
);

CREATE INDEX ix_collection_items_edition_isbn ON public.collection_items USING btree (edition_isbn);
CREATE INDEX ix_collection_items_collection_id ON public.collection_items USING btree (collection_id);

CREATE TABLE public.collection_item_activity_log (
    id serial NOT NULL,
    collection_item_id integer NOT NULL,
    reader_id uuid NOT NULL,
    status public.enum_collection_item_read_status NOT NULL,
    "timestamp" timestamp without time zone NOT NULL,
    CONSTRAINT collection_item_activity_log_pkey PRIMARY KEY (id),
    CONSTRAINT fk_collection_item_activity_collection_item_id FOREIGN KEY (collection_item_id)
        REFERENCES public.collection_items (id) ON DELETE CASCADE,
    CONSTRAINT fk_collection_item_activity_reader FOREIGN KEY (reader_id) REFERENCES public.readers (id)
);

CREATE INDEX ix_collection_item_activity_log_collection_item_id ON public.collection_item_activity_log USING btree (collection_item_id);
CREATE INDEX ix_collection_item_activity_log_status ON public.collection_item_activity_log USING btree (status);
CREATE INDEX ix_collectionitemactivitys_timestamp_reader_id ON public.collection_item_activity_log USING btree ("timestamp", reader_id);

-- ---------------------------------------------------------------------------
-- Booklists (domain.md section 9)
-- ---------------------------------------------------------------------------

CREATE TABLE public.book_lists (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    name character varying(200) NOT NULL,
    type public.enum_book_list_type NOT NULL,
    info jsonb,
    created_at timestamp without time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    updated_at timestamp without time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    school_id integer,
    user_id uuid,
    service_account_id uuid,
    slug character varying(200),
    sharing public.enum_book_list_sharing DEFAULT 'PRIVATE'::public.enum_book_list_sharing NOT NULL,
    CONSTRAINT book_lists_pkey PRIMARY KEY (id),
    CONSTRAINT fk_booklist_school FOREIGN KEY (school_id) REFERENCES public.schools (id) ON DELETE CASCADE,
    CONSTRAINT fk_booklist_user FOREIGN KEY (user_id) REFERENCES public.users (id) ON DELETE CASCADE,
    CONSTRAINT fk_booklist_service_account FOREIGN KEY (service_account_id)
        REFERENCES public.service_accounts (id) ON DELETE CASCADE
);

CREATE UNIQUE INDEX ix_book_lists_id ON public.book_lists USING btree (id);
CREATE INDEX ix_book_lists_name ON public.book_lists USING btree (name);
CREATE INDEX ix_book_lists_type ON public.book_lists USING btree (type);
CREATE UNIQUE INDEX ix_book_lists_slug ON public.book_lists USING btree (slug);
CREATE INDEX ix_book_lists_sharing ON public.book_lists USING btree (sharing);

CREATE TABLE public.book_list_works (
    booklist_id uuid NOT NULL,
    work_id integer NOT NULL,
    created_at timestamp without time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    order_id integer,
    info json,
    CONSTRAINT book_list_works_pkey PRIMARY KEY (booklist_id, work_id),
    CONSTRAINT uq_booklistworkassociations_booklist_id_order_id UNIQUE (booklist_id, order_id)
        DEFERRABLE INITIALLY IMMEDIATE,
    CONSTRAINT fk_booklist_items_booklist_id FOREIGN KEY (booklist_id)
        REFERENCES public.book_lists (id) ON DELETE CASCADE,
    CONSTRAINT fk_booklist_items_work_id FOREIGN KEY (work_id) REFERENCES public.works (id) ON DELETE CASCADE
);

CREATE INDEX ix_booklistworkassociations_booklist_id_order_id ON public.book_list_works USING btree (booklist_id, order_id);

-- ---------------------------------------------------------------------------
-- Events, products, subscriptions, supporting tables (domain.md section 10)
-- ---------------------------------------------------------------------------

CREATE TABLE public.events (
    id uuid NOT NULL,
    school_id integer,
    user_id uuid,
    level public.eventlevel NOT NULL,
    title character varying(256) NOT NULL,
    "timestamp" timestamp without time zone NOT NULL,
    service_account_id uuid,
    info jsonb,
    CONSTRAINT events_pkey PRIMARY KEY (id),
    CONSTRAINT fk_event_school FOREIGN KEY (school_id) REFERENCES public.schools (id),
    CONSTRAINT fk_event_user FOREIGN KEY (user_id) REFERENCES public.users (id),
    CONSTRAINT fk_event_service_account FOREIGN KEY (service_account_id) REFERENCES public.service_accounts (id)
);

CREATE INDEX ix_events_school ON public.events USING btree (school_id) WHERE (school_id IS NOT NULL);
CREATE INDEX ix_events_user ON public.events USING btree (user_id) WHERE (user_id IS NOT NULL);
CREATE INDEX ix_events_service ON public.events USING btree (service_account_id) WHERE (service_account_id IS NOT NULL);
CREATE INDEX ix_events_title ON public.events USING btree (title);
CREATE INDEX ix_events_timestamp ON public.events USING btree ("timestamp");

CREATE TABLE public.products (
    id character varying NOT NULL,
    name character varying NOT NULL,
    CONSTRAINT products_pkey PRIMARY KEY (id)
);

CREATE TABLE public.subscriptions (
    id character varying NOT NULL,
    type public.enum_subscription_type NOT NULL,
    stripe_customer_id character varying NOT NULL,
    is_active boolean NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    info jsonb,
    provider public.enum_subscription_provider NOT NULL,
    product_id character varying NOT NULL,
    latest_checkout_session_id character varying,
    parent_id uuid,
    expiration timestamp without time zone NOT NULL,
    school_id uuid,
    CONSTRAINT subscriptions_pkey PRIMARY KEY (id),
    CONSTRAINT fk_product_stripe_subscription FOREIGN KEY (product_id) REFERENCES public.products (id),
    CONSTRAINT fk_parent_stripe_subscription FOREIGN KEY (parent_id) REFERENCES public.parents (id) ON DELETE CASCADE,
    CONSTRAINT fk_school_stripe_subscription FOREIGN KEY (school_id)
        REFERENCES public.schools (wriveted_identifier) ON DELETE CASCADE
);

CREATE INDEX ix_subscriptions_stripe_customer_id ON public.subscriptions USING btree (stripe_customer_id);
CREATE INDEX ix_subscriptions_product_id ON public.subscriptions USING btree (product_id);
CREATE INDEX ix_subscriptions_latest_checkout_session_id ON public.subscriptions USING btree (latest_checkout_session_id);
CREATE INDEX ix_subscriptions_parent_id ON public.subscriptions USING btree (parent_id);
CREATE INDEX ix_subscriptions_school_id ON public.subscriptions USING btree (school_id);

CREATE TABLE public.event_outbox (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    event_type character varying(100) NOT NULL,
    event_version character varying(20) DEFAULT '1.0'::character varying NOT NULL,
    source_service character varying(50) DEFAULT 'wriveted-api'::character varying NOT NULL,
    destination character varying(100) NOT NULL,
    routing_key character varying(100),
    payload jsonb NOT NULL,
    headers jsonb,
    status public.eventoutboxstatus DEFAULT 'PENDING'::public.eventoutboxstatus NOT NULL,
    priority public.eventoutboxpriority DEFAULT 'NORMAL'::public.eventoutboxpriority NOT NULL,
    retry_count integer DEFAULT 0 NOT NULL,
    max_retries integer DEFAULT 3 NOT NULL,
    next_retry_at timestamp without time zone,
    last_error text,
    error_details jsonb,
    created_at timestamp without time zone DEFAULT now() NOT NULL,
    updated_at timestamp without time zone,
    processed_at timestamp without time zone,
    correlation_id character varying(100),
    causation_id character varying(100),
    user_id uuid,
    session_id uuid,
    flow_id uuid,
    CONSTRAINT event_outbox_pkey PRIMARY KEY (id)
);

CREATE INDEX ix_event_outbox_event_type ON public.event_outbox USING btree (event_type);
CREATE INDEX ix_event_outbox_routing_key ON public.event_outbox USING btree (routing_key);
CREATE INDEX ix_event_outbox_status ON public.event_outbox USING btree (status);
CREATE INDEX ix_event_outbox_priority ON public.event_outbox USING btree (priority);
CREATE INDEX ix_event_outbox_next_retry_at ON public.event_outbox USING btree (next_retry_at);
CREATE INDEX ix_event_outbox_correlation_id ON public.event_outbox USING btree (correlation_id);

CREATE TABLE public.task_idempotency_records (
    idempotency_key character varying(255) NOT NULL,
    status public.enum_task_execution_status DEFAULT 'PROCESSING'::public.enum_task_execution_status NOT NULL,
    session_id uuid NOT NULL,
    node_id character varying(255) NOT NULL,
    session_revision integer NOT NULL,
    result_data jsonb,
    error_message text,
    created_at timestamp without time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    completed_at timestamp without time zone,
    expires_at timestamp without time zone DEFAULT (CURRENT_TIMESTAMP + '24:00:00'::interval) NOT NULL,
    CONSTRAINT task_idempotency_records_pkey PRIMARY KEY (idempotency_key)
);

CREATE INDEX ix_task_idempotency_records_idempotency_key ON public.task_idempotency_records USING btree (idempotency_key);
CREATE INDEX ix_task_idempotency_records_session_id ON public.task_idempotency_records USING btree (session_id);
CREATE INDEX ix_task_idempotency_records_status ON public.task_idempotency_records USING btree (status);

-- ---------------------------------------------------------------------------
-- Functions and triggers (domain.md section 11.1)
-- ---------------------------------------------------------------------------

-- Keeps editions.title = coalesce(edition_title, title of the edition's work)
-- for the inserted or updated edition only. The UPDATE below sets only title,
-- so it does not fire this trigger again.
CREATE FUNCTION public.update_edition_title() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF NEW.edition_title IS NOT NULL OR NEW.work_id IS NOT NULL THEN
        UPDATE public.editions
        SET title = COALESCE(NEW.edition_title,
                             (SELECT w.title FROM public.works w WHERE w.id = NEW.work_id))
        WHERE id = NEW.id;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER update_edition_title_trigger
    AFTER INSERT OR UPDATE OF edition_title, work_id ON public.editions
    FOR EACH ROW EXECUTE FUNCTION public.update_edition_title();

-- Propagates a work's title to the titles of that work's editions only.
CREATE FUNCTION public.update_edition_title_from_work() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF NEW.title IS NOT NULL THEN
        UPDATE public.editions
        SET title = COALESCE(edition_title, NEW.title)
        WHERE work_id = NEW.id;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER update_edition_title_from_work_trigger
    AFTER INSERT OR UPDATE OF title ON public.works
    FOR EACH ROW EXECUTE FUNCTION public.update_edition_title_from_work();

-- Bumps the owning collection's updated_at on item insert or update (not on delete).
CREATE FUNCTION public.update_collections_function() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    UPDATE public.collections
    SET updated_at = now()
    WHERE id = NEW.collection_id;
    RETURN NEW;
END;
$$;

CREATE TRIGGER update_collections_trigger
    AFTER INSERT OR UPDATE ON public.collection_items
    FOR EACH ROW EXECUTE FUNCTION public.update_collections_function();

-- Percent-encodes every character outside [0-9a-zA-Z_.!~*'()-] and every
-- multi-byte character, one %XX per UTF-8 byte (like encodeURIComponent).
CREATE FUNCTION public.encode_uri_component(text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT
    AS $$
    SELECT COALESCE(string_agg(
        CASE
            WHEN octet_length(t.c) > 1 OR t.c !~ '^[0-9a-zA-Z_.!~*''()-]$' THEN
                upper(regexp_replace(encode(convert_to(t.c, 'UTF8'), 'hex'), '(..)', '%\1', 'g'))
            ELSE t.c
        END,
        '' ORDER BY t.n), '')
    FROM regexp_split_to_table($1, '') WITH ORDINALITY AS t(c, n);
$$;

-- ---------------------------------------------------------------------------
-- Materialized views (domain.md section 11.2)
-- ---------------------------------------------------------------------------

CREATE MATERIALIZED VIEW public.work_collection_frequency AS
    SELECT e.work_id,
           sum(ci.copies_total) AS collection_frequency
    FROM public.editions e
    JOIN public.collection_items ci ON ci.edition_isbn = e.isbn
    GROUP BY e.work_id
    WITH DATA;

CREATE UNIQUE INDEX ix_work_collection_frequency_work_id ON public.work_collection_frequency USING btree (work_id);

CREATE MATERIALIZED VIEW public.search_view_v1 AS
    SELECT w.id AS work_id,
           jsonb_agg(a.id) AS author_ids,
           s.id AS series_id,
           setweight(to_tsvector('english'::regconfig, COALESCE(w.title, '')), 'A') ||
           setweight(to_tsvector('english'::regconfig, COALESCE(w.subtitle, '')), 'C') ||
           setweight(to_tsvector('english'::regconfig, COALESCE((
               SELECT string_agg(COALESCE(au.first_name || ' ', '') || au.last_name, ' ')
               FROM public.authors au
               WHERE au.id IN (SELECT awa2.author_id
                               FROM public.author_work_association awa2
                               WHERE awa2.work_id = w.id)
           ), '')), 'C') ||
           setweight(to_tsvector('english'::regconfig, COALESCE(s.title, '')), 'B') AS document
    FROM public.works w
    JOIN public.author_work_association awa ON awa.work_id = w.id
    JOIN public.authors a ON a.id = awa.author_id
    LEFT JOIN public.series_works_association swa ON swa.work_id = w.id
    LEFT JOIN public.series s ON s.id = swa.series_id
    GROUP BY w.id, s.id
    WITH DATA;

CREATE INDEX ix_search_document ON public.search_view_v1 USING gin (document);

-- Trigger functions that refresh the materialized views. Not attached to any
-- trigger: the views are refreshed by scheduled tasks.
CREATE FUNCTION public.refresh_search_view_v1_function() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    REFRESH MATERIALIZED VIEW public.search_view_v1;
    RETURN NEW;
END;
$$;

CREATE FUNCTION public.refresh_work_collection_frequency_view_function() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    REFRESH MATERIALIZED VIEW public.work_collection_frequency;
    RETURN NEW;
END;
$$;

-- ---------------------------------------------------------------------------
-- Seed data (domain.md section 14 and Appendix A)
-- ---------------------------------------------------------------------------

INSERT INTO public.countries (id, phonecode, name) VALUES
    ('ABW', 297, 'Aruba'),
    ('AFG', 93, 'Afghanistan'),
    ('AGO', 244, 'Angola'),
    ('AIA', 1264, 'Anguilla'),
    ('ALA', 358, 'Aland Islands'),
    ('ALB', 355, 'Albania'),
    ('AND', 376, 'Andorra'),
    ('ANT', 599, 'Netherlands Antilles'),
    ('ARE', 971, 'United Arab Emirates'),
    ('ARG', 54, 'Argentina'),
    ('ARM', 374, 'Armenia'),
    ('ASM', 1684, 'American Samoa'),
    ('ATA', 0, 'Antarctica'),
    ('ATF', 0, 'French Southern Territories'),
    ('ATG', 1268, 'Antigua and Barbuda'),
    ('AUS', 61, 'Australia'),
    ('AUT', 43, 'Austria'),
    ('AZE', 994, 'Azerbaijan'),
    ('BDI', 257, 'Burundi'),
    ('BEL', 32, 'Belgium'),
    ('BEN', 229, 'Benin'),
    ('BES', 599, 'Bonaire, Sint Eustatius and Saba'),
    ('BFA', 226, 'Burkina Faso'),
    ('BGD', 880, 'Bangladesh'),
    ('BGR', 359, 'Bulgaria'),
    ('BHR', 973, 'Bahrain'),
    ('BHS', 1242, 'Bahamas'),
    ('BIH', 387, 'Bosnia and Herzegovina'),
    ('BLM', 590, 'Saint Barthelemy'),
    ('BLR', 375, 'Belarus'),
    ('BLZ', 501, 'Belize'),
    ('BMU', 1441, 'Bermuda'),
    ('BOL', 591, 'Bolivia'),
    ('BRA', 55, 'Brazil'),
    ('BRB', 1246, 'Barbados'),
    ('BRN', 673, 'Brunei Darussalam'),
    ('BTN', 975, 'Bhutan'),
    ('BVT', 0, 'Bouvet Island'),
    ('BWA', 267, 'Botswana'),
    ('CAF', 236, 'Central African Republic'),
    ('CAN', 1, 'Canada'),
    ('CHE', 41, 'Switzerland'),
    ('CHL', 56, 'Chile'),
    ('CHN', 86, 'China'),
    ('CIV', 225, 'Cote D''Ivoire'),
    ('CMR', 237, 'Cameroon'),
    ('COD', 242, 'Congo, the Democratic Republic of the'),
    ('COG', 242, 'Congo'),
    ('COK', 682, 'Cook Islands'),
    ('COL', 57, 'Colombia'),
    ('COM', 269, 'Comoros'),
    ('CPV', 238, 'Cape Verde'),
    ('CRI', 506, 'Costa Rica'),
    ('CUB', 53, 'Cuba'),
    ('CUW', 599, 'Curacao'),
    ('CXR', 61, 'Christmas Island'),
    ('CYM', 1345, 'Cayman Islands'),
    ('CYP', 357, 'Cyprus'),
    ('CZE', 420, 'Czech Republic'),
    ('DEU', 49, 'Germany'),
    ('DJI', 253, 'Djibouti'),
    ('DMA', 1767, 'Dominica'),
    ('DNK', 45, 'Denmark'),
    ('DOM', 1, 'Dominican Republic'),
    ('DZA', 213, 'Algeria'),
    ('ECU', 593, 'Ecuador'),
    ('EGY', 20, 'Egypt'),
    ('ERI', 291, 'Eritrea'),
    ('ESH', 212, 'Western Sahara'),
    ('ESP', 34, 'Spain'),
    ('EST', 372, 'Estonia'),
    ('ETH', 251, 'Ethiopia'),
    ('FIN', 358, 'Finland'),
    ('FJI', 679, 'Fiji'),
    ('FLK', 500, 'Falkland Islands (Malvinas)'),
    ('FRA', 33, 'France'),
    ('FRO', 298, 'Faroe Islands'),
    ('FSM', 691, 'Micronesia, Federated States of'),
    ('GAB', 241, 'Gabon'),
    ('GBR', 44, 'United Kingdom'),
    ('GEO', 995, 'Georgia'),
    ('GGY', 44, 'Guernsey'),
    ('GHA', 233, 'Ghana'),
    ('GIB', 350, 'Gibraltar'),
    ('GIN', 224, 'Guinea'),
    ('GLP', 590, 'Guadeloupe'),
    ('GMB', 220, 'Gambia'),
    ('GNB', 245, 'Guinea-Bissau'),
    ('GNQ', 240, 'Equatorial Guinea'),
    ('GRC', 30, 'Greece'),
    ('GRD', 1473, 'Grenada'),
    ('GRL', 299, 'Greenland'),
    ('GTM', 502, 'Guatemala'),
    ('GUF', 594, 'French Guiana'),
    ('GUM', 1671, 'Guam'),
    ('GUY', 592, 'Guyana'),
    ('HKG', 852, 'Hong Kong'),
    ('HMD', 0, 'Heard Island and Mcdonald Islands'),
    ('HND', 504, 'Honduras'),
    ('HRV', 385, 'Croatia'),
    ('HTI', 509, 'Haiti'),
    ('HUN', 36, 'Hungary'),
    ('IDN', 62, 'Indonesia'),
    ('IMN', 44, 'Isle of Man'),
    ('IND', 91, 'India'),
    ('IOT', 246, 'British Indian Ocean Territory'),
    ('IRL', 353, 'Ireland'),
    ('IRN', 98, 'Iran, Islamic Republic of'),
    ('IRQ', 964, 'Iraq'),
    ('ISL', 354, 'Iceland'),
    ('ISR', 972, 'Israel'),
    ('ITA', 39, 'Italy'),
    ('JAM', 1876, 'Jamaica'),
    ('JEY', 44, 'Jersey'),
    ('JOR', 962, 'Jordan'),
    ('JPN', 81, 'Japan'),
    ('KAZ', 7, 'Kazakhstan'),
    ('KEN', 254, 'Kenya'),
    ('KGZ', 996, 'Kyrgyzstan'),
    ('KHM', 855, 'Cambodia'),
    ('KIR', 686, 'Kiribati'),
    ('KNA', 1869, 'Saint Kitts and Nevis'),
    ('KOR', 82, 'Korea, Republic of'),
    ('KWT', 965, 'Kuwait'),
    ('LAO', 856, 'Lao People''s Democratic Republic'),
    ('LBN', 961, 'Lebanon'),
    ('LBR', 231, 'Liberia'),
    ('LBY', 218, 'Libyan Arab Jamahiriya'),
    ('LCA', 1758, 'Saint Lucia'),
    ('LIE', 423, 'Liechtenstein'),
    ('LKA', 94, 'Sri Lanka'),
    ('LSO', 266, 'Lesotho'),
    ('LTU', 370, 'Lithuania'),
    ('LUX', 352, 'Luxembourg'),
    ('LVA', 371, 'Latvia'),
    ('MAC', 853, 'Macao'),
    ('MAF', 590, 'Saint Martin'),
    ('MAR', 212, 'Morocco'),
    ('MCO', 377, 'Monaco'),
    ('MDA', 373, 'Moldova, Republic of'),
    ('MDG', 261, 'Madagascar'),
    ('MDV', 960, 'Maldives'),
    ('MEX', 52, 'Mexico'),
    ('MHL', 692, 'Marshall Islands'),
    ('MKD', 389, 'North Macedonia'),
    ('MLI', 223, 'Mali'),
    ('MLT', 356, 'Malta'),
    ('MMR', 95, 'Myanmar'),
    ('MNE', 382, 'Montenegro'),
    ('MNG', 976, 'Mongolia'),
    ('MNP', 1670, 'Northern Mariana Islands'),
    ('MOZ', 258, 'Mozambique'),
    ('MRT', 222, 'Mauritania'),
    ('MSR', 1664, 'Montserrat'),
    ('MTQ', 596, 'Martinique'),
    ('MUS', 230, 'Mauritius'),
    ('MWI', 265, 'Malawi'),
    ('MYS', 60, 'Malaysia'),
    ('MYT', 269, 'Mayotte'),
    ('NAM', 264, 'Namibia'),
    ('NCL', 687, 'New Caledonia'),
    ('NER', 227, 'Niger'),
    ('NFK', 672, 'Norfolk Island'),
    ('NGA', 234, 'Nigeria'),
    ('NIC', 505, 'Nicaragua'),
    ('NIU', 683, 'Niue'),
    ('NLD', 31, 'Netherlands'),
    ('NOR', 47, 'Norway'),
    ('NPL', 977, 'Nepal'),
    ('NRU', 674, 'Nauru'),
    ('NZL', 64, 'New Zealand'),
    ('OMN', 968, 'Oman'),
    ('PAK', 92, 'Pakistan'),
    ('PAN', 507, 'Panama'),
    ('PCN', 0, 'Pitcairn'),
    ('PER', 51, 'Peru'),
    ('PHL', 63, 'Philippines'),
    ('PLW', 680, 'Palau'),
    ('PNG', 675, 'Papua New Guinea'),
    ('POL', 48, 'Poland'),
    ('PRI', 1787, 'Puerto Rico'),
    ('PRK', 850, 'Korea, Democratic People''s Republic of'),
    ('PRT', 351, 'Portugal'),
    ('PRY', 595, 'Paraguay'),
    ('PYF', 689, 'French Polynesia'),
    ('QAT', 974, 'Qatar'),
    ('REU', 262, 'Reunion'),
    ('ROU', 40, 'Romania'),
    ('RUS', 7, 'Russian Federation'),
    ('RWA', 250, 'Rwanda'),
    ('SAU', 966, 'Saudi Arabia'),
    ('SDN', 249, 'Sudan'),
    ('SEN', 221, 'Senegal'),
    ('SGP', 65, 'Singapore'),
    ('SGS', 0, 'South Georgia and the South Sandwich Islands'),
    ('SHN', 290, 'Saint Helena'),
    ('SJM', 47, 'Svalbard and Jan Mayen'),
    ('SLB', 677, 'Solomon Islands'),
    ('SLE', 232, 'Sierra Leone'),
    ('SLV', 503, 'El Salvador'),
    ('SMR', 378, 'San Marino'),
    ('SOM', 252, 'Somalia'),
    ('SPM', 508, 'Saint Pierre and Miquelon'),
    ('SRB', 381, 'Serbia'),
    ('SSD', 211, 'South Sudan'),
    ('STP', 239, 'Sao Tome and Principe'),
    ('SUR', 597, 'Suriname'),
    ('SVK', 421, 'Slovakia'),
    ('SVN', 386, 'Slovenia'),
    ('SWE', 46, 'Sweden'),
    ('SWZ', 268, 'Swaziland'),
    ('SXM', 1, 'Sint Maarten'),
    ('SYC', 248, 'Seychelles'),
    ('SYR', 963, 'Syrian Arab Republic'),
    ('TCA', 1649, 'Turks and Caicos Islands'),
    ('TCD', 235, 'Chad'),
    ('TGO', 228, 'Togo'),
    ('THA', 66, 'Thailand'),
    ('TJK', 992, 'Tajikistan'),
    ('TKL', 690, 'Tokelau'),
    ('TKM', 993, 'Turkmenistan'),
    ('TLS', 670, 'Timor-Leste'),
    ('TON', 676, 'Tonga'),
    ('TTO', 1868, 'Trinidad and Tobago'),
    ('TUN', 216, 'Tunisia'),
    ('TUR', 90, 'Turkey'),
    ('TUV', 688, 'Tuvalu'),
    ('TWN', 886, 'Taiwan, Province of China'),
    ('TZA', 255, 'Tanzania, United Republic of'),
    ('UGA', 256, 'Uganda'),
    ('UKR', 380, 'Ukraine'),
    ('UMI', 1, 'United States Minor Outlying Islands'),
    ('URY', 598, 'Uruguay'),
    ('USA', 1, 'United States'),
    ('UZB', 998, 'Uzbekistan'),
    ('VAT', 39, 'Holy See (Vatican City State)'),
    ('VCT', 1784, 'Saint Vincent and the Grenadines'),
    ('VEN', 58, 'Venezuela'),
    ('VGB', 1284, 'Virgin Islands, British'),
    ('VIR', 1340, 'Virgin Islands, U.s.'),
    ('VNM', 84, 'Viet Nam'),
    ('VUT', 678, 'Vanuatu'),
    ('WLF', 681, 'Wallis and Futuna'),
    ('WSM', 684, 'Samoa'),
    ('XKX', 383, 'Kosovo'),
    ('YEM', 967, 'Yemen'),
    ('ZAF', 27, 'South Africa'),
    ('ZMB', 260, 'Zambia'),
    ('ZWE', 263, 'Zimbabwe');

INSERT INTO public.reading_abilities (id, key, name) VALUES
    (1, 'SPOT', 'Where''s Spot'),
    (2, 'CAT_HAT', 'The Cat in the Hat'),
    (3, 'TREEHOUSE', 'The 13-Storey Treehouse'),
    (4, 'CHARLIE_CHOCOLATE', 'Charlie and the Chocolate Factory'),
    (5, 'HARRY_POTTER', 'Harry Potter and the Philosopher''s Stone');

SELECT setval('public.reading_abilities_id_seq', 5, true);

-- Ids 1-12 keep the original seed's slots, with slot 7 (was hue08_charming_inspiring)
-- and slot 12 (was hue13_straightforward) replaced by the API's HueKeys. Id 13 adds
-- hue04_joyful_charming, which the original seed lacks.
INSERT INTO public.hues (id, key, name, info) VALUES
    (1, 'hue01_dark_suspense', 'Dark/Suspense', '{}'),
    (2, 'hue02_beautiful_whimsical', 'Beautiful/Whimsical', '{}'),
    (3, 'hue03_dark_beautiful', 'Dark/Beautiful', '{}'),
    (4, 'hue05_funny_comic', 'Funny/Comic', '{}'),
    (5, 'hue06_dark_gritty', 'Dark/Gritty', '{}'),
    (6, 'hue07_silly_charming', 'Silly/Charming', '{}'),
    (7, 'hue08_charming_courageous', 'Charming/Courageous', '{}'),
    (8, 'hue09_charming_playful', 'Charming/Playful', '{}'),
    (9, 'hue10_inspiring', 'Inspiring', '{}'),
    (10, 'hue11_realistic_hope', 'Realistic/Hope', '{}'),
    (11, 'hue12_funny_quirky', 'Funny/Quirky', '{}'),
    (12, 'hue13_informative', 'Informative', '{}'),
    (13, 'hue04_joyful_charming', 'Joyful/Charming', '{}');

SELECT setval('public.hues_id_seq', 13, true);
