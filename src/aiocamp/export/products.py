"""The export plan of each product: which listings exist and how records lead to others.

Adding a product is adding a function that returns its :class:`~.plan.Plan` and a line in
:data:`PLANS`. A listing's ``open`` calls the generated client's list method; the engine
never needs to know a product's URLs or paging.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any

from ..core._errors import ConfigError
from .plan import Child, Listing, Plan

__all__ = ["PLANS", "plan_for"]


def _opt(since: datetime | None) -> dict[str, Any]:
    return {} if since is None else {"since": since}


def _id(record: Any) -> Any:
    value = getattr(record, "id", None)
    return value if isinstance(value, int) else None


def _by_id(name: str) -> Callable[[Any], Mapping[str, Any] | None]:
    """Child arguments ``{name: record.id}`` (none for a record without an integer id)."""

    def args(record: Any) -> Mapping[str, Any] | None:
        value = _id(record)
        return None if value is None else {name: value}

    return args


def _with_count(name: str, count: str = "comments_count") -> Callable[[Any], Any]:
    """Like :func:`_by_id`, skipping records whose ``count`` field says there are none
    (a record without the field, or with a value that is not a number, is listed)."""

    def args(record: Any) -> Mapping[str, Any] | None:
        value = getattr(record, count, None)
        if isinstance(value, int) and value <= 0:
            return None
        return _by_id(name)(record)

    return args


def _with_comments(name: str) -> Callable[[Any], Mapping[str, Any] | None]:
    return _with_count(name, "comments_count")


# -- Highrise ------------------------------------------------------------------------------


def _hr_subject(kind: str) -> Callable[[Any], Mapping[str, Any] | None]:
    def args(record: Any) -> Mapping[str, Any] | None:
        value = _id(record)
        return None if value is None else {"subject_type": kind, "subject_id": value}

    return args


def _hr_attachments(record: Any) -> Iterable[tuple[str, str]]:
    for attachment in getattr(record, "attachments", None) or ():
        url = getattr(attachment, "url", None)
        if url:
            name = getattr(attachment, "name", None) or f"attachment-{attachment.id}"
            yield url, f"{attachment.id}-{name}"


def highrise() -> Plan:
    def subject_children(kind: str) -> tuple[Child, ...]:
        return (Child("notes", _hr_subject(kind)), Child("emails", _hr_subject(kind)))

    listings = [
        Listing(
            "account",
            "account",
            fetch=lambda c, a: c.account.get(),
            root=True,
        ),
        Listing(
            "users",
            "users",
            lambda c, a, s: c.users.list(),
            root=True,
        ),
        Listing("groups", "groups", lambda c, a, s: c.groups.list(), root=True),
        Listing("memberships", "memberships", lambda c, a, s: c.memberships.list(), root=True),
        Listing("tags", "tags", lambda c, a, s: c.tags.list(), root=True),
        Listing(
            "task_categories",
            "task_categories",
            lambda c, a, s: c.categories.list_task_categories(),
            root=True,
        ),
        Listing(
            "deal_categories",
            "deal_categories",
            lambda c, a, s: c.categories.list_deal_categories(),
            root=True,
        ),
        Listing(
            "custom_fields",
            "custom_fields",
            lambda c, a, s: c.custom_fields.list(type="all"),
            root=True,
        ),
        Listing("tasks", "tasks", lambda c, a, s: c.tasks.list_all(), root=True),
        Listing(
            "people",
            "people",
            lambda c, a, s: c.people.list(**_opt(s)),
            root=True,
            since=True,
            children=subject_children("people"),
        ),
        Listing(
            "companies",
            "companies",
            lambda c, a, s: c.companies.list(**_opt(s)),
            root=True,
            since=True,
            children=subject_children("companies"),
        ),
        Listing(
            "deals",
            "deals",
            lambda c, a, s: c.deals.list(**_opt(s)),
            root=True,
            since=True,
            children=subject_children("deals"),
        ),
        Listing(
            "cases_open",
            "cases",
            lambda c, a, s: c.cases.list_open(),
            root=True,
            children=subject_children("kases"),
        ),
        Listing(
            "cases_closed",
            "cases",
            lambda c, a, s: c.cases.list_closed(),
            root=True,
            children=subject_children("kases"),
        ),
        Listing(
            "deletions",
            "deletions",
            lambda c, a, s: c.deletions.list(**_opt(s)),
            root=True,
            since=True,
        ),
        Listing(
            "notes",
            "notes",
            lambda c, a, s: c.notes.list_for_subject(a["subject_type"], a["subject_id"], **_opt(s)),
            since=True,
            children=(Child("note_comments", _by_id("note_id")),),
            files=_hr_attachments,
        ),
        Listing(
            "emails",
            "emails",
            lambda c, a, s: c.emails.list_for_subject(
                a["subject_type"], a["subject_id"], **_opt(s)
            ),
            since=True,
            children=(Child("email_comments", _by_id("email_id")),),
            files=_hr_attachments,
        ),
        Listing(
            "note_comments",
            "comments",
            lambda c, a, s: c.comments.list_for_note(a["note_id"]),
        ),
        Listing(
            "email_comments",
            "comments",
            lambda c, a, s: c.comments.list_for_email(a["email_id"]),
        ),
    ]
    return Plan(
        "highrise",
        {listing.name: listing for listing in listings},
        since_help=(
            "highrise: people, companies, deals, deletions, and the notes and emails of the "
            "records walked, changed after the moment given (the API's since= parameter); "
            "the other lists are exported whole"
        ),
    )


# -- Basecamp 4 ----------------------------------------------------------------------------


def _bc4_dock(tool: str, name: str) -> Callable[[Any], Mapping[str, Any] | None]:
    """Arguments for a project's dock tool of one kind (none when it is switched off)."""

    def args(project: Any) -> Mapping[str, Any] | None:
        for entry in getattr(project, "dock", None) or ():
            if (
                getattr(entry, "name", None) == tool
                and getattr(entry, "enabled", True) is not False
            ) and isinstance(getattr(entry, "id", None), int):
                return {name: entry.id}
        return None

    return args


def _bc4_download(record: Any) -> Iterable[tuple[str, str]]:
    url = getattr(record, "download_url", None)
    if url:
        yield url, f"{record.id}-{getattr(record, 'filename', None) or 'upload'}"


def _bc4_columns(card_table: Any) -> list[Mapping[str, Any]]:
    return [
        {"column_id": column.id}
        for column in getattr(card_table, "lists", None) or ()
        if isinstance(getattr(column, "id", None), int)
    ]


def _bc4_chat(project: Any) -> Mapping[str, Any] | None:
    chat = _bc4_dock("chat", "chat_id")(project)
    return None if chat is None or _id(project) is None else {"bucket_id": project.id, **chat}


_EVENT_BOOSTS = re.compile(r"/recordings/(\d+)/events/(\d+)/boosts\.json")


def _bc4_event_boosts(event: Any) -> Mapping[str, Any] | None:
    """boosts.md: only boostable events (completed, adopted, column_changed) carry
    ``boosts_count``; list the boosts of those that have some (the recording from
    ``recording_id``, or from ``boosts_url`` should the event lack it)."""
    count = getattr(event, "boosts_count", None)
    value = _id(event)
    if not isinstance(count, int) or count <= 0 or value is None:
        return None
    recording = getattr(event, "recording_id", None)
    if not isinstance(recording, int):
        found = _EVENT_BOOSTS.search(str(getattr(event, "boosts_url", None) or ""))
        if found is None or int(found[2]) != value:
            return None
        recording = int(found[1])
    return {"recording_id": recording, "event_id": value}


def _bc4_client_replies(record: Any) -> Mapping[str, Any] | None:
    """client_replies.md: a correspondence's or approval's replies, under its project."""
    count = getattr(record, "replies_count", None)
    bucket = _id(getattr(record, "bucket", None))
    value = _id(record)
    if (isinstance(count, int) and count <= 0) or bucket is None or value is None:
        return None
    return {"bucket_id": bucket, "recording_id": value}


def basecamp4() -> Plan:
    comments = Child("comments", _with_comments("recording_id"))
    # events.md: every change of a recording is an event, so each recording the walk
    # reaches (the types recordings.md lists) has its events listed; boosts.md: a record
    # with boosts_count can be boosted, so its boosts are listed unless the count is 0.
    events = Child("events", _by_id("recording_id"))
    boosts = Child("boosts", _with_count("recording_id", "boosts_count"))
    recording = (comments, events, boosts)
    client_replies = Child("client_replies", _bc4_client_replies)
    listings = [
        Listing("people", "people", lambda c, a, s: c.people.list(), root=True),
        Listing("templates", "templates", lambda c, a, s: c.templates.list(), root=True),
        Listing(
            "lineup_markers", "lineup_markers", lambda c, a, s: c.lineup_markers.list(), root=True
        ),
        # The token user's own lists (bookmarks, drafts, bubble-ups, question reminders)
        # and the account's project folders: none of them is reachable from a project.
        Listing("bookmarks", "bookmarks", lambda c, a, s: c.bookmarks.list_mine(), root=True),
        Listing("drafts", "drafts", lambda c, a, s: c.drafts.list_mine(), root=True),
        Listing("bubble_ups", "bubble_ups", lambda c, a, s: c.bubble_ups.list(), root=True),
        Listing(
            "question_reminders",
            "question_reminders",
            lambda c, a, s: c.question_reminders.list(),
            root=True,
        ),
        Listing("folders", "folders", lambda c, a, s: c.folders.list(), root=True),
        Listing(
            "projects",
            "projects",
            lambda c, a, s: c.projects.list(),
            root=True,
            children=(
                Child("project_people", _by_id("project_id")),
                Child("todolists", _bc4_dock("todoset", "todoset_id")),
                Child("messages", _bc4_dock("message_board", "message_board_id")),
                Child("documents", _bc4_dock("vault", "vault_id")),
                Child("uploads", _bc4_dock("vault", "vault_id")),
                Child("vaults", _bc4_dock("vault", "vault_id")),
                Child("schedule_entries", _bc4_dock("schedule", "schedule_id")),
                Child("campfire_lines", _bc4_dock("chat", "chat_id")),
                Child("questions", _bc4_dock("questionnaire", "questionnaire_id")),
                Child("inbox_forwards", _bc4_dock("inbox", "inbox_id")),
                Child("card_tables", _bc4_dock("kanban_board", "card_table_id")),
                Child("chatbots", _bc4_chat),
                Child("message_types", _by_id("bucket_id")),
                Child("webhooks", _by_id("bucket_id")),
                Child("client_approvals", _by_id("bucket_id")),
                Child("client_correspondences", _by_id("bucket_id")),
                Child("gauge_needles", _by_id("project_id")),
                Child("timesheet", _by_id("project_id")),
            ),
        ),
        Listing(
            "chatbots",
            "chatbots",
            lambda c, a, s: c.chatbots.list(a["bucket_id"], a["chat_id"]),
        ),
        Listing(
            "message_types",
            "message_types",
            lambda c, a, s: c.message_types.list(a["bucket_id"]),
        ),
        Listing("webhooks", "webhooks", lambda c, a, s: c.webhooks.list(a["bucket_id"])),
        Listing(
            "client_approvals",
            "client_approvals",
            lambda c, a, s: c.client_approvals.list(a["bucket_id"]),
            children=(client_replies,),
        ),
        Listing(
            "client_correspondences",
            "client_correspondences",
            lambda c, a, s: c.client_correspondences.list(a["bucket_id"]),
            children=(client_replies,),
        ),
        Listing(
            "gauge_needles",
            "gauge_needles",
            lambda c, a, s: c.gauges.list_needles(a["project_id"]),
            children=(comments, boosts),
        ),
        Listing(
            "timesheet",
            "timesheet_entries",
            lambda c, a, s: c.timesheets.list_for_project(a["project_id"]),
        ),
        Listing(
            "upload_versions",
            "upload_versions",
            lambda c, a, s: c.uploads.list_versions(a["upload_id"]),
        ),
        Listing(
            "project_people",
            "project_people",
            lambda c, a, s: c.people.list_for_project(a["project_id"]),
        ),
        Listing(
            "todolists",
            "todolists",
            lambda c, a, s: c.todolists.list(a["todoset_id"]),
            children=(
                Child("todos", _by_id("todolist_id")),
                Child("todos_completed", _by_id("todolist_id")),
                Child("todolist_groups", _by_id("todolist_id")),
                *recording,
            ),
        ),
        Listing(
            "todolist_groups",
            "todolist_groups",
            lambda c, a, s: c.todolist_groups.list(a["todolist_id"]),
            children=(
                Child("todos", _by_id("todolist_id")),
                Child("todos_completed", _by_id("todolist_id")),
                *recording,
            ),
        ),
        Listing(
            "todos",
            "todos",
            lambda c, a, s: c.todos.list(a["todolist_id"]),
            children=recording,
        ),
        Listing(
            "todos_completed",
            "todos",
            lambda c, a, s: c.todos.list(a["todolist_id"], completed=True),
            children=recording,
        ),
        Listing(
            "messages",
            "messages",
            lambda c, a, s: c.messages.list(a["message_board_id"]),
            children=recording,
        ),
        Listing(
            "documents",
            "documents",
            lambda c, a, s: c.documents.list(a["vault_id"]),
            children=recording,
        ),
        Listing(
            "uploads",
            "uploads",
            lambda c, a, s: c.uploads.list(a["vault_id"]),
            children=(*recording, Child("upload_versions", _by_id("upload_id"))),
            files=_bc4_download,
        ),
        Listing(
            "vaults",
            "vaults",
            lambda c, a, s: c.vaults.list(a["vault_id"]),
            children=(
                Child("documents", _by_id("vault_id")),
                Child("uploads", _by_id("vault_id")),
                Child("vaults", _by_id("vault_id")),
                events,
            ),
        ),
        Listing(
            "schedule_entries",
            "schedule_entries",
            lambda c, a, s: c.schedule_entries.list(a["schedule_id"]),
            children=recording,
        ),
        Listing(
            "campfire_lines",
            "campfire_lines",
            lambda c, a, s: c.campfires.list_lines(a["chat_id"]),
            children=(boosts,),
        ),
        Listing(
            "questions",
            "questions",
            lambda c, a, s: c.questions.list(a["questionnaire_id"]),
            children=(Child("question_answers", _by_id("question_id")),),
        ),
        Listing(
            "question_answers",
            "question_answers",
            lambda c, a, s: c.question_answers.list(a["question_id"]),
            children=recording,
        ),
        Listing(
            "inbox_forwards",
            "inbox_forwards",
            lambda c, a, s: c.forwards.list(a["inbox_id"]),
            children=(Child("inbox_replies", _with_count("inbox_forward_id", "replies_count")),),
        ),
        Listing(
            "inbox_replies",
            "inbox_replies",
            lambda c, a, s: c.inbox_replies.list(a["inbox_forward_id"]),
            children=(boosts,),
        ),
        Listing(
            "card_tables",
            "card_tables",
            fetch=lambda c, a: c.card_tables.get(a["card_table_id"]),
            children=(Child("cards", _bc4_columns, many=True),),
        ),
        Listing(
            "cards",
            "cards",
            lambda c, a, s: c.card_table_cards.list(a["column_id"]),
            children=recording,
        ),
        Listing(
            "comments",
            "comments",
            lambda c, a, s: c.comments.list(a["recording_id"]),
            children=(events, boosts),
        ),
        Listing(
            "events",
            "events",
            lambda c, a, s: c.events.list(a["recording_id"]),
            children=(Child("event_boosts", _bc4_event_boosts),),
        ),
        Listing("boosts", "boosts", lambda c, a, s: c.boosts.list(a["recording_id"])),
        Listing(
            "event_boosts",
            "boosts",
            lambda c, a, s: c.boosts.list_for_event(a["recording_id"], a["event_id"]),
        ),
        Listing(
            "client_replies",
            "client_replies",
            lambda c, a, s: c.client_replies.list(a["bucket_id"], a["recording_id"]),
        ),
    ]
    return Plan("basecamp4", {listing.name: listing for listing in listings})


# -- Basecamp Classic ----------------------------------------------------------------------


def _classic_comments(kind: str, *, entry_type: str | None = None) -> Child:
    """Comments of each record (of one calendar entry ``type`` when given)."""

    def args(record: Any) -> Mapping[str, Any] | None:
        if entry_type is not None and getattr(record, "type", None) != entry_type:
            return None
        count = getattr(record, "comments_count", None)
        if isinstance(count, int) and count <= 0:
            return None
        value = _id(record)
        return None if value is None else {"resource": kind, "resource_id": value}

    return Child("comments_" + kind, args)


def _classic_file(record: Any) -> Iterable[tuple[str, str]]:
    url = getattr(record, "download_url", None)
    if url:
        yield url, f"{record.id}-{getattr(record, 'name', None) or 'file'}"


def basecamp_classic() -> Plan:
    listings = [
        Listing("account", "account", fetch=lambda c, a: c.account.get(), root=True),
        Listing("people", "people", lambda c, a, s: c.people.list(), root=True),
        Listing("companies", "companies", lambda c, a, s: c.companies.list(), root=True),
        Listing(
            "projects",
            "projects",
            lambda c, a, s: c.projects.list(),
            root=True,
            children=(
                Child("todo_lists", _by_id("project_id")),
                Child("message_archive", _by_id("project_id")),
                Child("calendar_entries", _by_id("project_id")),
                Child("categories", _by_id("project_id")),
                Child("files", _by_id("project_id")),
                Child("time_entries", _by_id("project_id")),
                Child("project_people", _by_id("project_id")),
                Child("project_companies", _by_id("project_id")),
            ),
        ),
        Listing(
            "project_people",
            "project_people",
            lambda c, a, s: c.people.list_for_project(a["project_id"]),
        ),
        Listing(
            "project_companies",
            "project_companies",
            lambda c, a, s: c.companies.list_for_project(a["project_id"]),
        ),
        Listing(
            "todo_lists",
            "todo_lists",
            lambda c, a, s: c.todo_lists.list_for_project(a["project_id"], filter="all"),
            children=(Child("todo_items", _by_id("todo_list_id")),),
        ),
        Listing(
            "todo_items",
            "todo_items",
            lambda c, a, s: c.todo_items.list(a["todo_list_id"]),
            children=(_classic_comments("todo_items"),),
        ),
        # posts.xml shows only a project's newest 25 messages; the archive lists a summary
        # of every one, and each message is then read whole by its id (one request per
        # message, so none is missed and none is written twice).
        Listing(
            "message_archive",
            "message_archive",
            lambda c, a, s: c.messages.list_archive(a["project_id"]),
            children=(Child("messages", _by_id("id")),),
        ),
        Listing(
            "messages",
            "messages",
            fetch=lambda c, a: c.messages.get(a["id"]),
            children=(_classic_comments("posts"),),
        ),
        Listing(
            "calendar_entries",
            "calendar_entries",
            lambda c, a, s: c.calendar_entries.list(a["project_id"]),
            children=(
                _classic_comments("milestones", entry_type="Milestone"),
                _classic_comments("calendar_events", entry_type="CalendarEvent"),
            ),
        ),
        Listing(
            "categories",
            "categories",
            lambda c, a, s: c.categories.list(a["project_id"]),
        ),
        Listing(
            "files",
            "files",
            lambda c, a, s: c.files.list(a["project_id"]),
            files=_classic_file,
        ),
        Listing(
            "time_entries",
            "time_entries",
            lambda c, a, s: c.time_entries.list(a["project_id"]),
        ),
    ]
    for kind in ("todo_items", "posts", "milestones", "calendar_events"):
        listings.append(
            Listing(
                "comments_" + kind,
                "comments",
                lambda c, a, s: c.comments.list(a["resource"], a["resource_id"]),
            )
        )
    return Plan("basecamp_classic", {listing.name: listing for listing in listings})


# -- Backpack ------------------------------------------------------------------------------


def _bp_page_lists(page: Any) -> list[Mapping[str, Any]]:
    """The (page, list) pairs of a full page: list items are listed per list of a page."""
    pid = _id(page)
    if pid is None:
        return []
    return [{"page_id": pid, "list_id": i} for i in map(_id, page.lists or ()) if i is not None]


def backpack() -> Plan:
    """Pages with their notes, lists (and items), emails and full form; reminders, users,
    statuses, journal entries, calendars with their events, and your bookmarks."""
    listings = [
        Listing(
            "me",
            "me",
            fetch=lambda c, a: c.users.me(),
            root=True,
            children=(Child("bookmarks", _by_id("user_id")),),  # only your own are readable
        ),
        Listing("bookmarks", "bookmarks", lambda c, a, s: c.bookmarks.list(a["user_id"])),
        Listing("users", "users", lambda c, a, s: c.users.list(), root=True),
        Listing(
            "pages",
            "pages",
            lambda c, a, s: c.pages.list(),
            root=True,
            children=(
                Child("page_details", _by_id("page_id")),
                Child("notes", _by_id("page_id")),
                Child("lists", _by_id("page_id")),
                Child("emails", _by_id("page_id")),
            ),
        ),
        Listing(
            "page_details",
            "page_details",
            fetch=lambda c, a: c.pages.get(a["page_id"]),
            children=(Child("list_items", _bp_page_lists, many=True),),
        ),
        Listing("notes", "notes", lambda c, a, s: c.notes.list(a["page_id"])),
        Listing("lists", "lists", lambda c, a, s: c.lists.list(a["page_id"])),
        Listing(
            "list_items",
            "list_items",
            lambda c, a, s: c.list_items.list(a["page_id"], a["list_id"]),
        ),
        Listing("emails", "emails", lambda c, a, s: c.emails.list(a["page_id"])),
        Listing("reminders", "reminders", lambda c, a, s: c.reminders.list(), root=True),
        Listing("statuses", "statuses", lambda c, a, s: c.statuses.list(), root=True),
        Listing(
            "journal_entries",
            "journal_entries",
            lambda c, a, s: c.journal_entries.list(),
            root=True,
        ),
        Listing(
            "calendars",
            "calendars",
            lambda c, a, s: c.calendars.list(),
            root=True,
            children=(Child("calendar_events", _by_id("calendar_id")),),
        ),
        Listing(
            "calendar_events",
            "calendar_events",
            lambda c, a, s: c.calendar_events.list(a["calendar_id"]),
        ),
    ]
    return Plan("backpack", {listing.name: listing for listing in listings})


# -- Harvest -------------------------------------------------------------------------------


def _updated(since: datetime | None) -> dict[str, Any]:
    """Harvest's incremental filter: ``updated_since`` (a UTC date-time)."""
    return {} if since is None else {"updated_since": since}


#: Reports need a time frame (Time and Expense Reporting.md): from the first day Harvest
#: could hold to far enough ahead for entries dated in the future.
_HARVEST_FROM = date(2006, 1, 1)


def _harvest_frame(since: datetime | None) -> dict[str, Any]:
    frame: dict[str, Any] = {
        "from_date": _HARVEST_FROM,
        "to_date": date.today().replace(year=date.today().year + 1),
    }
    return frame | _updated(since)


def harvest() -> Plan:
    listings = [
        Listing("account", "account", fetch=lambda c, a: c.account.who_am_i(), root=True),
        Listing(
            "people",
            "people",
            lambda c, a, s: c.people.list(**_updated(s)),
            root=True,
            since=True,
        ),
        Listing(
            "clients",
            "clients",
            lambda c, a, s: c.clients.list(**_updated(s)),
            root=True,
            since=True,
        ),
        Listing(
            "contacts",
            "contacts",
            lambda c, a, s: c.contacts.list(**_updated(s)),
            root=True,
            since=True,
        ),
        Listing(
            "tasks", "tasks", lambda c, a, s: c.tasks.list(**_updated(s)), root=True, since=True
        ),
        Listing(
            "expense_categories",
            "expense_categories",
            lambda c, a, s: c.expense_categories.list(**_updated(s)),
            root=True,
            since=True,
        ),
        Listing(
            "invoice_item_categories",
            "invoice_item_categories",
            lambda c, a, s: c.invoice_item_categories.list(),
            root=True,
        ),
        Listing(
            "projects",
            "projects",
            lambda c, a, s: c.projects.list(**_updated(s)),
            root=True,
            since=True,
            children=(
                Child("task_assignments", _by_id("project_id")),
                Child("user_assignments", _by_id("project_id")),
                Child("time_entries", _by_id("project_id")),
                Child("expenses", _by_id("project_id")),
            ),
        ),
        Listing(
            "task_assignments",
            "task_assignments",
            lambda c, a, s: c.task_assignments.list(a["project_id"], **_updated(s)),
            since=True,
        ),
        Listing(
            "user_assignments",
            "user_assignments",
            lambda c, a, s: c.user_assignments.list(a["project_id"], **_updated(s)),
            since=True,
        ),
        Listing(
            "time_entries",
            "time_entries",
            lambda c, a, s: c.reports.project_entries(a["project_id"], **_harvest_frame(s)),
            since=True,
        ),
        Listing(
            "expenses",
            "expenses",
            lambda c, a, s: c.reports.project_expenses(a["project_id"], **_harvest_frame(s)),
            since=True,
        ),
        Listing(
            "invoices",
            "invoices",
            lambda c, a, s: c.invoices.list(**_updated(s)),
            root=True,
            since=True,
            children=(
                Child("invoice_messages", _by_id("invoice_id")),
                Child("invoice_payments", _by_id("invoice_id")),
            ),
        ),
        Listing(
            "invoice_messages",
            "invoice_messages",
            lambda c, a, s: c.invoice_messages.list(a["invoice_id"]),
        ),
        Listing(
            "invoice_payments",
            "invoice_payments",
            lambda c, a, s: c.invoice_payments.list(a["invoice_id"]),
        ),
    ]
    return Plan(
        "harvest",
        {listing.name: listing for listing in listings},
        since_help="records updated since then (Harvest's updated_since)",
    )


#: Product name -> its plan.
PLANS: dict[str, Callable[[], Plan]] = {
    "backpack": backpack,
    "basecamp4": basecamp4,
    "basecamp_classic": basecamp_classic,
    "harvest": harvest,
    "highrise": highrise,
}


def plan_for(product: str) -> Plan:
    try:
        return PLANS[product]()
    except KeyError:
        raise ConfigError(
            f"no export plan for {product!r}; products: {', '.join(sorted(PLANS))}"
        ) from None
