"""organization, workspaces, workspace_members, api_keys, users, invites: the ids in usage, with names.

What the manifest promises for these streams:
- full refresh; lists ask for limit=1000 and page by id (after_id = the previous page's last_id) until has_more
  is false, never by offset;
- workspaces include archived ones, so every workspace_id in the reports resolves;
- workspace_members reads each workspace's members, keyed by workspace_id and user_id; a workspace whose members
  the API refuses (HTTP 400, as for archived workspaces) is skipped with a warning naming it;
- api_keys carries created_by_id, principal_id and principal_type beside the nested objects, for joins;
- a key that cannot read a stream (403 or 404) skips it with a warning; the sync goes on.
"""

from unittest import TestCase

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse

from unit_tests.builders import API_URL, ADMIN_KEY, api_error, config, list_page, list_request, read_stream, records_of

HEADERS = {"x-api-key": ADMIN_KEY, "anthropic-version": "2023-06-01"}


def full_refresh(stream: str):
    return read_stream(stream, config(), sync_mode=SyncMode.full_refresh)


def workspace(workspace_id: str, archived_at=None) -> dict:
    return {"id": workspace_id, "name": workspace_id.upper(), "archived_at": archived_at, "type": "workspace"}


class TestLists(TestCase):
    @HttpMocker()
    def test_pages_by_id_until_has_more_is_false(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(list_request("/v1/organizations/users"),
                        list_page({"id": "user_1", "email": "a@x.com"}, {"id": "user_2", "email": "b@x.com"},
                                  has_more=True))
        http_mocker.get(list_request("/v1/organizations/users", after_id="user_2"),
                        list_page({"id": "user_3", "email": "c@x.com"}))

        records = records_of(full_refresh("users"))

        self.assertEqual([r["id"] for r in records], ["user_1", "user_2", "user_3"])

    @HttpMocker()
    def test_a_name_cut_inside_an_emoji_is_read_with_a_replacement_character(self, http_mocker: HttpMocker) -> None:
        """JSON allows half of a UTF-16 pair alone (json.dumps writes it as the escape \\ud83d); no serializer
        writes it back, so the half becomes U+FFFD and a whole emoji stays itself."""
        http_mocker.get(list_request("/v1/organizations/users"),
                        list_page({"id": "user_1", "name": "Ann \ud83d"}, {"id": "user_2", "name": "Bo \ud83d\ude00"},
                                  {"id": "user_3", "name": "\ude00 Cy"}))

        output = full_refresh("users")

        self.assertEqual([(r["id"], r["name"]) for r in records_of(output)],
                         [("user_1", "Ann \ufffd"), ("user_2", "Bo \U0001f600"), ("user_3", "\ufffd Cy")])
        self.assertEqual(output.errors, [])

    @HttpMocker()
    def test_workspaces_include_archived_ones(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(list_request("/v1/organizations/workspaces", include_archived="true"),
                        list_page(workspace("wrkspc_a"), workspace("wrkspc_old", "2025-01-01T00:00:00Z")))

        records = records_of(full_refresh("workspaces"))

        self.assertEqual([(r["id"], r.get("archived_at")) for r in records],
                         [("wrkspc_a", None), ("wrkspc_old", "2025-01-01T00:00:00Z")])

    @HttpMocker()
    def test_members_are_read_per_workspace(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(list_request("/v1/organizations/workspaces", include_archived="true"),
                        list_page(workspace("wrkspc_a"), workspace("wrkspc_b", "2025-01-01T00:00:00Z")))
        for workspace_id, users in (("wrkspc_a", ["user_1", "user_2"]), ("wrkspc_b", ["user_2"])):
            members = [{"user_id": u, "workspace_id": workspace_id, "workspace_role": "workspace_user",
                        "type": "workspace_member"} for u in users]
            http_mocker.get(list_request(f"/v1/organizations/workspaces/{workspace_id}/members"),
                            list_page(*members, id_field="user_id"))

        records = records_of(full_refresh("workspace_members"))

        self.assertEqual(sorted((r["workspace_id"], r["user_id"]) for r in records),
                         [("wrkspc_a", "user_1"), ("wrkspc_a", "user_2"), ("wrkspc_b", "user_2")])

    @HttpMocker()
    def test_a_workspace_whose_members_are_refused_is_skipped_with_a_warning_naming_it(self, http_mocker) -> None:
        """Given two archived workspaces whose members the API refuses (HTTP 400, as it does for service accounts of
        archived workspaces), Then each is named in a warning and the other workspaces' members are read."""
        http_mocker.get(list_request("/v1/organizations/workspaces", include_archived="true"),
                        list_page(workspace("wrkspc_a"), workspace("wrkspc_old", "2025-01-01T00:00:00Z"),
                                  workspace("wrkspc_older", "2024-01-01T00:00:00Z")))
        http_mocker.get(list_request("/v1/organizations/workspaces/wrkspc_a/members"),
                        list_page({"user_id": "user_1", "workspace_id": "wrkspc_a"}, id_field="user_id"))
        for archived in ("wrkspc_old", "wrkspc_older"):
            http_mocker.get(list_request(f"/v1/organizations/workspaces/{archived}/members"),
                            api_error(400, "invalid_request_error", "Workspace is archived", {"x-should-retry": "false"}))

        output = full_refresh("workspace_members")

        self.assertEqual([(r["workspace_id"], r["user_id"]) for r in records_of(output)], [("wrkspc_a", "user_1")])
        warnings = [log.log.message for log in output.logs if log.log.level.value == "WARN"]
        for archived in ("wrkspc_old", "wrkspc_older"):
            self.assertTrue(any(m.startswith(f"Skipping the members of workspace {archived}: the Admin API refused "
                                             "them (HTTP 400: Workspace is archived)") for m in warnings), warnings)

    @HttpMocker()
    def test_api_keys_carry_the_join_ids_beside_the_nested_objects(self, http_mocker: HttpMocker) -> None:
        key = {"id": "apikey_1", "name": "prod", "status": "active", "workspace_id": None,
               "created_by": {"id": "user_1", "type": "user"}, "principal": {"id": "svac_1", "type": "service_account"}}
        console_key = {**key, "id": "apikey_2", "principal": None}
        http_mocker.get(list_request("/v1/organizations/api_keys"), list_page(key, console_key))

        first, second = records_of(full_refresh("api_keys"))

        self.assertEqual((first["created_by_id"], first["principal_id"], first["principal_type"]),
                         ("user_1", "svac_1", "service_account"))
        self.assertEqual(first["created_by"], {"id": "user_1", "type": "user"})
        self.assertNotIn("principal_id", second)  # null: the CDK omits top-level nulls
        self.assertNotIn("workspace_id", first)

    @HttpMocker()
    def test_invites_and_organization(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(list_request("/v1/organizations/invites"),
                        list_page({"id": "invite_1", "email": "x@y.com", "status": "pending", "rbac_group_ids": []}))
        http_mocker.get(HttpRequest(f"{API_URL}/v1/organizations/me", headers=HEADERS),
                        HttpResponse('{"id": "org-uuid", "name": "Acme", "type": "organization"}'))

        self.assertEqual([r["id"] for r in records_of(full_refresh("invites"))], ["invite_1"])
        self.assertEqual(records_of(full_refresh("organization")), [{"id": "org-uuid", "name": "Acme", "type": "organization"}])

    @HttpMocker()
    def test_a_list_page_that_is_not_whole_is_fetched_again(self, http_mocker: HttpMocker) -> None:
        from unittest.mock import patch

        http_mocker.get(list_request("/v1/organizations/users"),
                        [HttpResponse('{"data": [{"id": "user_1"}], "has_mo', 200), list_page({"id": "user_1"})])

        with patch("time.sleep"):
            records = records_of(full_refresh("users"))

        self.assertEqual([r["id"] for r in records], ["user_1"])

    @HttpMocker()
    def test_a_stream_the_key_cannot_read_is_skipped_with_a_warning(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(list_request("/v1/organizations/invites"), api_error(404, "not_found_error", "Not found"))

        output = full_refresh("invites")

        self.assertEqual(records_of(output), [])
        warnings = [log.log.message for log in output.logs if log.log.level.value == "WARN"]
        self.assertTrue(any(m.startswith("Skipping invites: the Admin API answered HTTP 403 or 404") for m in warnings))
