-- Creates the login roles WITH PASSWORDS before the first migration, for
-- docker-compose.yml (mounted into the postgres image's
-- /docker-entrypoint-initdb.d). The roles migration finds them and keeps the
-- passwords. Production does the same with its own secrets (see schema/README.md).
-- These passwords are for a local compose stack only.
CREATE ROLE huey_owner LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD 'compose-owner';
CREATE ROLE huey_app NOLOGIN NOSUPERUSER NOBYPASSRLS;
CREATE ROLE huey_api LOGIN NOINHERIT NOSUPERUSER NOBYPASSRLS PASSWORD 'compose-api';
CREATE ROLE huey_staff_ro LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD 'compose-staff-ro';
CREATE ROLE huey_staff_rw LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD 'compose-staff-rw';
