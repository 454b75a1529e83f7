"""Accounts through Envoy as JSON: sessions, password reset, profiles, privacy, deletion (issue #3)."""

from __future__ import annotations

import mailbox
import re

import httpx
import pytest

from services.runtime.mesh import Mesh
from tests.e2e.conftest import assert_error, bearer, signup
from tests.support import eventually

pytestmark = pytest.mark.e2e


async def test_refresh_rotates_tokens(http: httpx.AsyncClient) -> None:
    me = await signup(http)
    assert me["refreshToken"]
    rotated = await http.post("/api/v1/token/refresh", json={"refreshToken": me["refreshToken"]})
    assert rotated.status_code == 200, rotated.text
    body = rotated.json()
    assert body["token"] and body["refreshToken"] != me["refreshToken"]
    assert (await http.get(f"/api/v1/users/{me['userId']}", headers=bearer(body["token"]))).status_code == 200
    reused = await http.post("/api/v1/token/refresh", json={"refreshToken": me["refreshToken"]})
    assert_error(reused, 401, "INVALID_REFRESH_TOKEN")
    assert_error(await http.get(f"/api/v1/users/{me['userId']}", headers=bearer(body["token"])), 401, "SESSION_REVOKED")


async def test_logout_is_refused_by_every_service_on_the_next_call(http: httpx.AsyncClient) -> None:
    me = await signup(http)
    token = me["token"]
    assert (await http.post("/api/v1/logout", json={}, headers=bearer(token))).json() == {"message": "Logged out"}
    # The revocation is written before logout answers, so no later call with the token works,
    # whichever service it reaches.
    for method, path in [("GET", f"/api/v1/users/{me['userId']}"), ("POST", f"/api/v1/users/{me['userId']}/follow"),
                         ("POST", "/api/v1/tweets"), ("GET", "/api/v1/timeline/home"), ("GET", "/api/v1/notifications")]:
        response = await http.request(method, path, headers={**bearer(token), "content-type": "application/json"},
                                      content=b"{}" if method == "POST" else b"")
        assert_error(response, 401, "SESSION_REVOKED")


def _reset_token(mesh: Mesh, email: str) -> str | None:
    path = mesh.data_dir / "user" / "maildir"
    if not path.exists():
        return None
    for message in mailbox.Maildir(path, create=False):
        if message["To"] == email:
            found = re.search(r"token=([A-Za-z0-9_-]+)", message.get_payload(decode=True).decode())
            if found:
                return found.group(1)
    return None


async def test_password_reset_end_to_end(http: httpx.AsyncClient, mesh: Mesh) -> None:
    me = await signup(http)
    email = f"{me['profile']['username']}@example.com"
    asked = await http.post("/api/v1/password-reset/request", json={"email": email})
    nobody = await http.post("/api/v1/password-reset/request", json={"email": "no-such-person@example.com"})
    assert asked.status_code == nobody.status_code == 200 and asked.json() == nobody.json() == {"message": "Reset email sent"}

    async def mailed() -> str | None:
        return _reset_token(mesh, email)

    token = await eventually(mailed, what="the reset link in var/user/maildir")
    confirmed = await http.post("/api/v1/password-reset/confirm", json={"token": token, "newPassword": "brand new pass"})
    assert confirmed.json() == {"message": "Password reset successful"}
    assert_error(await http.get(f"/api/v1/users/{me['userId']}", headers=bearer(me["token"])), 401, "SESSION_REVOKED")
    login = await http.post("/api/v1/login", json={"username": me["profile"]["username"], "password": "brand new pass"})
    assert login.status_code == 200
    again = await http.post("/api/v1/password-reset/confirm", json={"token": token, "newPassword": "another pass"})
    assert_error(again, 400, "INVALID_RESET_TOKEN")


async def test_profile_update_with_a_field_mask(http: httpx.AsyncClient) -> None:
    me = await signup(http)
    path = f"/api/v1/users/{me['userId']}"
    updated = await http.put(path, headers=bearer(me["token"]), json={
        "name": "New Name", "bio": "Hello there", "website": "https://example.com", "avatarUrl": "https://cdn.example/a.png"})
    assert updated.status_code == 200, updated.text
    assert {k: updated.json()[k] for k in ("name", "bio", "website", "avatarUrl")} == {
        "name": "New Name", "bio": "Hello there", "website": "https://example.com", "avatarUrl": "https://cdn.example/a.png"}
    masked = await http.put(path, headers=bearer(me["token"]), json={"bio": "", "location": "Porto",
                                                                     "updateMask": "location"})
    assert masked.json()["bio"] == "Hello there" and masked.json()["location"] == "Porto"
    fetched = await http.get(path, headers=bearer(me["token"]))
    assert fetched.json()["location"] == "Porto"


async def test_profile_update_refusals(http: httpx.AsyncClient) -> None:
    me, other = await signup(http), await signup(http)
    assert_error(await http.put(f"/api/v1/users/{other['userId']}", headers=bearer(me["token"]), json={"bio": "x"}),
                 403, "NOT_PROFILE_OWNER")
    mine = f"/api/v1/users/{me['userId']}"
    assert_error(await http.put(mine, headers=bearer(me["token"]), json={"bio": "b" * 161}), 400, "BIO_TOO_LONG")
    assert_error(await http.put(mine, headers=bearer(me["token"]), json={"website": "not a url"}), 400, "INVALID_WEBSITE")
    assert_error(await http.put(mine, headers=bearer(me["token"]), json={"updateMask": "password"}), 400, "UNKNOWN_FIELD")
    assert_error(await http.put(mine, headers=bearer(me["token"]), json={"bio": 12}), 400)


async def test_privacy_settings_round_trip(http: httpx.AsyncClient) -> None:
    me, pest, bore = await signup(http), await signup(http), await signup(http)
    auth = bearer(me["token"])
    initial = await http.get("/api/v1/account/privacy", headers=auth)
    assert initial.status_code == 200, initial.text
    assert initial.json()["isPrivate"] is False and initial.json()["blockedUsers"] == []
    put = await http.put("/api/v1/account/privacy", headers=auth, json={
        "isPrivate": True, "blockedUsers": [pest["userId"]], "mutedUsers": [bore["userId"]],
        "notificationPrefs": {"likes": False, "follows": True}})
    assert put.status_code == 200, put.text
    body = put.json()
    assert body["isPrivate"] is True
    assert body["blockedUsers"] == [pest["userId"]] and body["mutedUsers"] == [bore["userId"]]
    assert body["notificationPrefs"]["likes"] is False
    # The block is the graph service's data: the blocked user now cannot see the profile.
    assert_error(await http.get(f"/api/v1/users/{me['userId']}", headers=bearer(pest["token"])), 404, "USER_NOT_FOUND")
    profile = await http.get(f"/api/v1/users/{me['userId']}", headers=bearer(bore["token"]))
    assert profile.json()["isPrivate"] is True
    cleared = await http.put("/api/v1/account/privacy", headers=auth, json={"blockedUsers": [],
                                                                            "updateMask": "blockedUsers"})
    assert cleared.json()["blockedUsers"] == [] and cleared.json()["mutedUsers"] == [bore["userId"]]


async def test_privacy_refuses_unknown_ids_and_changes_nothing(http: httpx.AsyncClient) -> None:
    me = await signup(http)
    auth = bearer(me["token"])
    response = await http.put("/api/v1/account/privacy", headers=auth, json={"isPrivate": True, "blockedUsers": ["123"]})
    assert 400 <= response.status_code < 500, response.text
    assert (await http.get("/api/v1/account/privacy", headers=auth)).json()["isPrivate"] is False


async def test_going_public_approves_pending_requests(http: httpx.AsyncClient) -> None:
    owner, fan = await signup(http), await signup(http)
    await http.put("/api/v1/account/privacy", headers=bearer(owner["token"]), json={"isPrivate": True})
    asked = await http.post(f"/api/v1/users/{owner['userId']}/follow", headers=bearer(fan["token"]), json={})
    assert asked.status_code == 200 and asked.json()["state"] == "FOLLOW_STATE_PENDING", asked.text
    await http.put("/api/v1/account/privacy", headers=bearer(owner["token"]), json={"isPrivate": False,
                                                                                   "updateMask": "isPrivate"})
    relation = await http.get(f"/api/v1/users/{owner['userId']}/relationship", headers=bearer(fan["token"]))
    assert relation.json()["following"] is True
    profile = await http.get(f"/api/v1/users/{owner['userId']}", headers=bearer(fan["token"]))
    assert profile.json()["followersCount"] == "1"


async def test_delete_account(http: httpx.AsyncClient) -> None:
    me, other = await signup(http), await signup(http)
    response = await http.delete("/api/v1/account", headers=bearer(me["token"]))
    assert response.json() == {"message": "Account deleted"}
    assert_error(await http.get(f"/api/v1/users/{me['userId']}", headers=bearer(other["token"])), 404, "USER_NOT_FOUND")
    assert_error(await http.post("/api/v1/login", json={"username": me["profile"]["username"], "password": "correct horse"}),
                 401, "INVALID_CREDENTIALS")
    assert_error(await http.get(f"/api/v1/users/{other['userId']}", headers=bearer(me["token"])), 401, "SESSION_REVOKED")


async def test_profile_counts_come_from_graph_and_tweet_services(http: httpx.AsyncClient) -> None:
    me, fan = await signup(http), await signup(http)
    await http.post(f"/api/v1/users/{me['userId']}/follow", headers=bearer(fan["token"]), json={})
    for text in ("first", "second"):
        posted = await http.post("/api/v1/tweets", headers=bearer(me["token"]), json={"text": text})
        assert posted.status_code == 200, posted.text
    deleted = await http.delete(f"/api/v1/tweets/{posted.json()['tweetId']}", headers=bearer(me["token"]))
    assert deleted.status_code == 200
    profile = (await http.get(f"/api/v1/users/{me['userId']}", headers=bearer(fan["token"]))).json()
    assert (profile["followersCount"], profile["followingCount"], profile["tweetsCount"]) == ("1", "0", "1")
    fan_profile = (await http.get(f"/api/v1/users/{fan['userId']}", headers=bearer(me["token"]))).json()
    assert fan_profile["followingCount"] == "1"
