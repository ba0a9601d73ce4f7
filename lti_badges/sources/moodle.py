"""The Moodle Web Services connector: every grade item, activity completion and course completion.

DESIGN.md, "Where criteria facts come from", kind 2.  LTI's AGS shows a tool
only its own line items (observed on Moodle 5.0, ../shared/moodle/README.md),
and no LTI service reports completion, so a Moodle admin gives the tool a
web-service token (lti_badges/sources/MOODLE_SETUP.md says exactly how) and
this connector reads the rest over Moodle's REST protocol:

``POST {site}/webservice/rest/server.php`` form-encoded with ``wstoken``,
``wsfunction``, ``moodlewsrestformat=json`` and the function's parameters
(arrays as ``name[0]``, ``name[0][key]``).  Moodle answers errors with
**HTTP 200** and ``{"exception", "errorcode", "message"[, "debuginfo"]}``;
only "web services disabled" is a bare HTTP 403.  Each becomes a
:class:`MoodleError` whose message tells the admin what to change.

Identity: in Moodle's LTI 1.3 launches ``sub`` is the Moodle user id as a
string (``lti-launch/id_token-learner-student1.json``: ``sub`` "4" is
student1, user id 4), NRPS ``user_id`` is the same value, and the LTI context
id is the course id (``context.id`` "2").  So facts are keyed by
``str(moodle_user_id)`` and line up with the LTI source's without a lookup.
This holds for the Moodle that issued the launch; a connector pointed at
another Moodle would need a mapping (not supported).

Facts produced (ids as lti_badges.criteria.facts suggests):

- ``GradeFact`` per graded item from ``gradereport_user_get_grade_items``
  called once for all users (no ``userid``): ``moodle:gradeitem:<id>`` with
  alias ``moodle:cm:<cmid>``, label = item name, tag = idnumber, score =
  ``graderaw`` within ``grademin``–``grademax``.  The course total (its
  ``itemname`` is null) is labelled "Course total" with alias
  ``moodle:course-total``; its maximum differs per user (empty grades are
  left out), so it is taken per user.  Grades hidden from the learner are
  not used: awarding from one would reveal it.
- ``ActivityCompletion`` per activity from
  ``core_completion_get_activities_completion_status`` (per learner; states
  0–3 via ``CompletionState.from_moodle``), ``moodle:cm:<cmid>``, labelled
  with the activity name from ``core_course_get_contents``.
- ``CourseCompletion`` from ``core_completion_get_course_completion_status``
  (per learner) when ``completed`` is true.
- Times are Moodle's own (``fact_time``: a record's ``timemodified``, else its graded,
  submitted or completed date); a fact Moodle does not date has no time.

Two ways to read a course (``mode``):

- **plugin**: when site info lists ``local_ltibadges_get_course_facts`` (the
  companion plugin ``local_ltibadges``, contract (c) of issue 10), the whole
  course comes in pages of ``perpage`` users (``hasmore`` says when to stop),
  each page with its users' grades and completions, mapped to the very facts
  the core path produces (``moodle:gradeitem:<id>``, ``moodle:cm:<cmid>``);
  the fact times are the plugin's ``timemodified``.  A re-sync reads in full
  (``since`` stays 0): the sync needs every fact, and a full read through the
  plugin costs a few calls.
- **core web services**, for sites that cannot install plugins: the roster,
  then per learner ``gradereport_user_get_grade_items`` (with ``userid``: the
  whole-course call answers in one 14 MB, 75 s piece for 500 learners and
  times out), activity completion and course completion.  The per-learner
  calls are O(learners); they run on a bounded thread pool (``workers``,
  setting ``MOODLE_WS_WORKERS``) and report ``progress(done, total)``.

Either way a read that misses anything reports an error, and the sync
awards nothing from it.  ``read_course(..., user_id=...)`` reads one
learner only (plugin ``userid``, or that learner's core calls): the sync of
one learner after a signed notice.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import requests

from lti_badges.criteria.facts import (
    MOODLE,
    ActivityCompletion,
    CompletionState,
    CourseCompletion,
    Facts,
    GradeFact,
)
from lti_badges.net import NetPolicy
from lti_badges.sources.base import (
    ACTIVE,
    CourseFacts,
    ItemSeen,
    Member,
    ProgressCallback,
    SourceError,
    build_course_facts,
    number,
)
from lti_badges.sources.http import Retry, send

WS_PATH = "/webservice/rest/server.php"
SERVICE_NAME = "LTI badge connector"
SERVICE_SHORTNAME = "lti_badge_connector"
SETUP_DOC = "lti_badges/sources/MOODLE_SETUP.md"

# The functions the external service must contain (README recipe, step 6).
REQUIRED_FUNCTIONS: tuple[str, ...] = (
    "core_webservice_get_site_info",
    "core_course_get_courses_by_field",
    "core_course_get_contents",
    "core_enrol_get_enrolled_users",
    "gradereport_user_get_grade_items",
    "core_completion_get_activities_completion_status",
    "core_completion_get_course_completion_status",
    "mod_assign_get_grades",
    "core_grades_get_gradeitems",
)

# The companion plugin's whole-course read (contract (c)); its presence in site info
# switches the connector to plugin mode.
PLUGIN_FUNCTION = "local_ltibadges_get_course_facts"
PLUGIN_REQUIRED: tuple[str, ...] = ("core_webservice_get_site_info", PLUGIN_FUNCTION)
MODE_PLUGIN, MODE_CORE = "plugin", "core"
PLUGIN_MAX_PERPAGE = 2000

# The connector role's capabilities (README recipe, step 4; each checked by removing it).
REQUIRED_CAPABILITIES: tuple[str, ...] = (
    "webservice/rest:use",
    "moodle/course:view",
    "moodle/course:viewparticipants",
    "moodle/user:viewdetails",
    "moodle/site:viewuseridentity",
    "gradereport/user:view",
    "moodle/grade:viewall",
    "report/progress:view",
    "report/completion:view",
    "mod/assign:grade",
    "mod/assign:view",
    "mod/lti:view",
    "moodle/site:accessallgroups",
)

# Moodle role shortnames → LIS roles, so lti_badges.lti.roles.is_learner reads them
# (LTI 1.3 Core §A.2.3).  Unknown (custom) roles are kept as ``moodle:role:<shortname>``.
_LIS = "http://purl.imsglobal.org/vocab/lis/v2/membership"
ROLE_MAP: dict[str, str] = {
    "student": _LIS + "#Learner",
    "editingteacher": _LIS + "#Instructor",
    "teacher": _LIS + "/Instructor#TeachingAssistant",
    "manager": _LIS + "#Administrator",
    "coursecreator": _LIS + "#ContentDeveloper",
}

# What a missing capability looks like in Moodle's answers (capability-matrix.json).
_CAPABILITY_BY_LABEL = {
    "View participants": "moodle/course:viewparticipants",
    "View user report": "gradereport/user:view",
    "View grades of other users": "moodle/grade:viewall",
    "View activity completion reports": "report/progress:view",
    "View course completion report": "report/completion:view",
}
_CAPABILITY_BY_CODE = {
    "nopermissiontoviewgrades": "moodle/grade:viewall",
    "cannotviewreport": "report/completion:view",
    "requireloginerror": "moodle/course:view",
    "errorcoursecontextnotvalid": "moodle/course:view",
}
_CAPABILITY_BY_FUNCTION = {
    "core_enrol_get_enrolled_users": "moodle/course:viewparticipants",
    "gradereport_user_get_grade_items": "gradereport/user:view and moodle/grade:viewall",
    "core_completion_get_activities_completion_status": "report/progress:view",
    "core_completion_get_course_completion_status": "report/completion:view",
    "mod_assign_get_grades": "mod/assign:grade",
}
# Completion not set up in the course: not a connector problem, just no such facts.
_NO_COMPLETION = {"nocriteriaset", "completionnotenabled", "nottracked"}


class MoodleError(SourceError):
    """Moodle refused a web-service call; ``str()`` tells the admin what to do.

    ``errorcode``/``exception``/``moodle_message``/``debuginfo`` are Moodle's
    own fields (``debuginfo`` only with developer debugging on: do not
    depend on it); ``capability`` names the capability to add when known.
    """

    def __init__(
        self,
        message: str,
        *,
        function: str,
        errorcode: str | None = None,
        exception: str | None = None,
        moodle_message: str | None = None,
        debuginfo: str | None = None,
        capability: str | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.function = function
        self.errorcode = errorcode
        self.exception = exception
        self.moodle_message = moodle_message
        self.debuginfo = debuginfo
        self.capability = capability
        self.http_status = http_status


@dataclass(frozen=True)
class Activity:
    """A course module from ``core_course_get_contents``."""

    cmid: int
    name: str
    modname: str
    instance: int | None
    visible: bool = True

    @property
    def activity_id(self) -> str:
        return f"moodle:cm:{self.cmid}"


@dataclass(frozen=True)
class SiteCheck:
    """The answer to "test connection": who the token is, and what is missing."""

    site_name: str
    username: str
    user_id: int | None
    release: str
    missing_functions: tuple[str, ...]
    mode: str = MODE_CORE
    functions: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.missing_functions

    @property
    def message(self) -> str:
        if self.ok:
            how = ("through the companion plugin local_ltibadges" if self.mode == MODE_PLUGIN
                   else "through core web services")
            return (f"Connected to {self.site_name} (Moodle {self.release}) as {self.username}; "
                    f"every function the connector needs is in the service (reads {how}).")
        return (f"Connected to {self.site_name} as {self.username}, but the external service "
                f"'{SERVICE_NAME}' lacks {', '.join(self.missing_functions)}: add them under "
                "Site administration > Server > Web services > External services > Functions.")


def encode_params(params: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Moodle REST form encoding: ``ids[0]=1``, ``options[0][name]=x``; booleans as 1/0."""
    out: list[tuple[str, str]] = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if value is None:
            continue
        if isinstance(value, Mapping):
            out.extend(encode_params(value, name))
        elif isinstance(value, list | tuple):
            out.extend(encode_params({str(i): v for i, v in enumerate(value)}, name))
        elif isinstance(value, bool):
            out.append((name, "1" if value else "0"))
        else:
            out.append((name, str(value)))
    return out


class MoodleClient:
    """A Moodle site reached with a web-service token (no database, no Flask)."""

    def __init__(
        self,
        site_url: str,
        token: str,
        policy: NetPolicy,
        *,
        retry: Retry | None = None,
        workers: int = 4,
        session: requests.Session | None = None,
        perpage: int = 500,
        mode: str | None = None,
    ) -> None:
        self.site_url = site_url.rstrip("/")
        self.endpoint = self.site_url + WS_PATH
        self._token = token
        self.policy = policy
        self.retry = retry or Retry()
        self.workers = max(1, min(int(workers), 32))
        self.session = session
        self.perpage = max(1, min(int(perpage), PLUGIN_MAX_PERPAGE))
        self._mode = mode  # None: site info decides at the first read

    def __repr__(self) -> str:  # never show the token
        return f"MoodleClient({self.site_url!r})"

    # ------------------------------------------------------------------ transport
    def call(self, function: str, **params: Any) -> Any:
        """Call one web-service function; return its JSON answer or raise MoodleError."""
        data = [("wstoken", self._token), ("wsfunction", function),
                ("moodlewsrestformat", "json"), *encode_params(params)]
        try:
            resp = send("POST", self.endpoint, self.policy, what="Moodle web service",
                        retry=self.retry, data=data, session=self.session,
                        headers={"Accept": "application/json"})
        except MoodleError:
            raise
        except SourceError as exc:
            raise MoodleError(str(exc), function=function) from exc
        if resp.status_code == 403:
            raise MoodleError(
                f"Moodle at {self.site_url} refused every web-service call (HTTP 403): web "
                "services are off. A Moodle admin must turn on Site administration > General > "
                "Advanced features > Enable web services, and enable the REST protocol under "
                "Site administration > Server > Web services > Manage protocols.",
                function=function, http_status=403)
        if resp.status_code == 404:
            raise MoodleError(
                f"{self.endpoint} does not exist (HTTP 404): check the Moodle site URL of the "
                "connector (the address of the Moodle front page).",
                function=function, http_status=404)
        if resp.status_code != 200:
            raise MoodleError(
                f"Moodle answered {function} with HTTP {resp.status_code} {resp.reason or ''}"
                .rstrip() + ".", function=function, http_status=resp.status_code)
        try:
            body = json.loads(resp.content)
        except ValueError as exc:
            raise MoodleError(
                f"Moodle at {self.site_url} did not answer {function} with JSON: is this the "
                "Moodle site URL, and is the REST protocol enabled?",
                function=function, http_status=200) from exc
        if isinstance(body, dict) and "exception" in body and "errorcode" in body:
            raise moodle_error(function, body)
        return body

    # ------------------------------------------------------------------ functions
    def site_info(self) -> dict[str, Any]:
        """``core_webservice_get_site_info``: the token's user and its functions."""
        body = self.call("core_webservice_get_site_info")
        if not isinstance(body, dict):
            raise MoodleError("Moodle's site info is not an object.",
                              function="core_webservice_get_site_info")
        return body

    def test_connection(self) -> SiteCheck:
        """Check the token and that the service holds every function the connector needs."""
        info = self.site_info()
        names = function_names(info)
        mode = MODE_PLUGIN if PLUGIN_FUNCTION in names else MODE_CORE
        self._mode = mode
        required = PLUGIN_REQUIRED if mode == MODE_PLUGIN else REQUIRED_FUNCTIONS
        return SiteCheck(
            site_name=str(info.get("sitename") or self.site_url),
            username=str(info.get("username") or ""),
            user_id=info.get("userid") if isinstance(info.get("userid"), int) else None,
            release=str(info.get("release") or ""),
            missing_functions=tuple(f for f in required if f not in names),
            mode=mode,
            functions=tuple(sorted(n for n in names if isinstance(n, str))),
        )

    def mode(self) -> str:
        """``plugin`` when the service holds the companion plugin's function, else ``core``."""
        if self._mode is None:
            self._mode = MODE_PLUGIN if PLUGIN_FUNCTION in function_names(self.site_info()) \
                else MODE_CORE
        return self._mode

    def _course_by(self, field: str, value: str | int) -> dict[str, Any] | None:
        body = self.call("core_course_get_courses_by_field", field=field, value=value)
        courses = body.get("courses") if isinstance(body, dict) else None
        return courses[0] if isinstance(courses, list) and courses else None

    def course_by_id(self, course_id: int | str) -> dict[str, Any] | None:
        return self._course_by("id", course_id)

    def course_by_shortname(self, shortname: str) -> dict[str, Any] | None:
        return self._course_by("shortname", shortname)

    def find_course(self, context_id: str, context_label: str | None = None) -> dict[str, Any]:
        """The Moodle course behind an LTI context.

        Moodle's launches carry the course id as ``context.id`` (and its
        shortname as ``context.label``); try the id, then the shortname.
        """
        course = self.course_by_id(context_id) if str(context_id).isdigit() else None
        if course is None and context_label:
            course = self.course_by_shortname(context_label)
        if course is None:
            raise MoodleError(
                f"No Moodle course has id {context_id!r}"
                + (f" or short name {context_label!r}" if context_label else "")
                + ", or the connector's role cannot see it (moodle/course:view).",
                function="core_course_get_courses_by_field")
        return course

    def activities(self, course_id: int | str) -> list[Activity]:
        """Every activity the connector can see (``core_course_get_contents``)."""
        body = self.call("core_course_get_contents", courseid=course_id)
        out: list[Activity] = []
        for section in body if isinstance(body, list) else []:
            for mod in section.get("modules") or [] if isinstance(section, dict) else []:
                if isinstance(mod, dict) and isinstance(mod.get("id"), int):
                    out.append(Activity(
                        cmid=mod["id"], name=str(mod.get("name") or ""),
                        modname=str(mod.get("modname") or ""),
                        instance=mod.get("instance") if isinstance(mod.get("instance"), int) else None,
                        visible=bool(mod.get("visible", 1))))
        return out

    def enrolled_users(self, course_id: int | str) -> list[Member]:
        """``core_enrol_get_enrolled_users``; roles mapped to LIS (student → Learner).

        Moodle does not say here whether an enrolment is suspended (that needs
        ``moodle/course:enrolreview``, which the recipe does not give), so every
        member reads Active; when NRPS is read too, its roster wins
        (``CourseFacts.merge``).
        """
        body = self.call("core_enrol_get_enrolled_users", courseid=course_id)
        if not isinstance(body, list):
            raise MoodleError("Moodle's enrolled users answer is not a list.",
                              function="core_enrol_get_enrolled_users")
        members = []
        for user in body:
            if not isinstance(user, dict) or not isinstance(user.get("id"), int):
                continue
            shortnames = [r.get("shortname") for r in user.get("roles") or []
                          if isinstance(r, dict) and r.get("shortname")]
            members.append(Member(
                user_id=str(user["id"]),
                name=_text(user.get("fullname")),
                email=_text(user.get("email")),
                roles=tuple(ROLE_MAP.get(s, f"moodle:role:{s}") for s in shortnames),
                status=ACTIVE,
                given_name=_text(user.get("firstname")),
                family_name=_text(user.get("lastname")),
                sourcedid=_text(user.get("idnumber")),
                username=_text(user.get("username")),
                source=MOODLE,
            ))
        return members

    def grade_report(self, course_id: int | str,
                     user_id: int | str | None = None) -> list[dict[str, Any]]:
        """``gradereport_user_get_grade_items``: one user's report with ``user_id``, else every
        user's at once (slow and huge on a large course: the sync reads per user)."""
        body = self.call("gradereport_user_get_grade_items", courseid=course_id,
                         userid=user_id)
        usergrades = body.get("usergrades") if isinstance(body, dict) else None
        if not isinstance(usergrades, list):
            raise MoodleError("Moodle's grade report has no usergrades list.",
                              function="gradereport_user_get_grade_items")
        return [u for u in usergrades if isinstance(u, dict)]

    def grade_item_names(self, course_id: int | str) -> dict[str, str]:
        """``core_grades_get_gradeitems``: id → name of every grade item (no grades)."""
        body = self.call("core_grades_get_gradeitems", courseid=course_id)
        items = body.get("gradeItems") if isinstance(body, dict) else None
        return {str(i.get("id")): str(i.get("itemname") or "") for i in items or []
                if isinstance(i, dict)}

    def activities_completion(self, course_id: int | str, user_id: int | str) -> list[dict[str, Any]]:
        body = self.call("core_completion_get_activities_completion_status",
                         courseid=course_id, userid=user_id)
        statuses = body.get("statuses") if isinstance(body, dict) else None
        return [s for s in statuses or [] if isinstance(s, dict)]

    def course_completion(self, course_id: int | str, user_id: int | str) -> dict[str, Any]:
        body = self.call("core_completion_get_course_completion_status",
                         courseid=course_id, userid=user_id)
        status = body.get("completionstatus") if isinstance(body, dict) else None
        return status if isinstance(status, dict) else {}

    # ------------------------------------------------------------------ the source
    def source(self, course_id: int | str) -> MoodleCourseSource:
        return MoodleCourseSource(self, course_id)

    def read_course(self, course_id: int | str, progress: ProgressCallback | None = None,
                    user_id: str | None = None) -> CourseFacts:
        """Every fact the connector can read for one course (or one learner of it, with
        ``user_id``); failures are reported, not raised."""
        try:
            mode = self.mode()
        except MoodleError as exc:
            return build_course_facts(MOODLE, roster=None, facts={}, sources_read=(),
                                      errors=[str(exc)])
        if mode == MODE_PLUGIN:
            return self._read_plugin(course_id, progress, user_id)
        return self._read_core(course_id, progress, user_id)

    # ------------------------------------------------------------------ core web services
    def _read_core(self, course_id: int | str, progress: ProgressCallback | None,
                   user_id: str | None) -> CourseFacts:
        errors: list[str] = []
        warnings: list[str] = []
        roster: list[Member] | None = None
        try:
            roster = self.enrolled_users(course_id)
        except MoodleError as exc:
            errors.append(str(exc))
        if roster is not None and user_id is not None:
            roster = [m for m in roster if m.user_id == str(user_id)]

        activities: dict[int, Activity] = {}
        try:
            activities = {a.cmid: a for a in self.activities(course_id)}
        except MoodleError as exc:
            errors.append(str(exc))

        grades: dict[str, list[GradeFact]] = {}
        seen: dict[str, ItemSeen] = {}
        idnumbers: dict[int, str] = {}  # cmid → idnumber, to tag completions
        completions: dict[str, tuple[tuple[ActivityCompletion, ...], CourseCompletion | None]] = {}
        if roster is not None:
            learners = [m.user_id for m in roster if m.awardable]
            reports, completions = self._read_learners(course_id, learners, activities,
                                                       errors, warnings, progress)
            hidden = _read_grades(reports, grades, seen, idnumbers)
            if hidden:
                warnings.append(f"{hidden} grade(s) hidden from learners were not used.")
            if reports:
                errors.extend(self._check_grade_items(course_id, seen, warnings))
            # Tags come from the grade items, read alongside the completions: set them now.
            completions = {uid: (tuple(replace(c, tag=idnumbers.get(_cmid(c.activity_id)))
                                       for c in acts), course)
                           for uid, (acts, course) in completions.items()}

        for cmid, activity in activities.items():
            seen[activity.activity_id] = ItemSeen(
                item_id=activity.activity_id, label=activity.name or None,
                tag=idnumbers.get(cmid), kind="activity", source=MOODLE,
                aliases=_activity_aliases(activity))

        users = set(grades) | set(completions)
        facts = {uid: Facts(grades=tuple(grades.get(uid, ())),
                            completions=completions.get(uid, ((), None))[0],
                            course_completion=completions.get(uid, ((), None))[1])
                 for uid in users}
        return build_course_facts(
            MOODLE, roster=roster, facts=facts,
            sources_read=() if errors else (MOODLE,),
            items=seen.values(), errors=errors, warnings=list(dict.fromkeys(warnings)))

    def _check_grade_items(self, course_id: int | str, seen: dict[str, ItemSeen],
                           warnings: list[str]) -> list[str]:
        """Grade items the grade report silently left out (a missing ``mod/<module>:view``).

        Without ``mod/assign:view`` Moodle drops the assignments from the grade
        report, the completion statuses and the course contents, with no error
        (capability-matrix.json); ``core_grades_get_gradeitems`` still lists them.
        """
        try:
            names = self.grade_item_names(course_id)
        except MoodleError as exc:
            warnings.append(f"Could not check that every grade item is visible: {exc}")
            return []
        visible = {i.item_id.rsplit(":", 1)[1] for i in seen.values()}
        missing = [name or f"grade item {gid}" for gid, name in names.items() if gid not in visible]
        if not missing:
            return []
        return [
            f"Moodle hid {len(missing)} grade item(s) from the connector: "
            f"{', '.join(repr(m) for m in missing)}. Give the connector's role the view "
            "capability of each activity type used in the course (mod/assign:view, "
            "mod/quiz:view, mod/lti:view, …) and, for hidden activities, "
            f"moodle/course:viewhiddenactivities; see {SETUP_DOC}."
        ]

    def _read_learners(
        self, course_id: int | str, learners: list[str], activities: dict[int, Activity],
        errors: list[str], warnings: list[str], progress: ProgressCallback | None,
    ) -> tuple[list[dict[str, Any]],
               dict[str, tuple[tuple[ActivityCompletion, ...], CourseCompletion | None]]]:
        """Per learner: the grade report, activity completion, course completion; at most
        ``workers`` learners at once (Moodle serves concurrent requests, each one is short)."""
        reports: list[dict[str, Any]] = []
        out: dict[str, tuple[tuple[ActivityCompletion, ...], CourseCompletion | None]] = {}
        stop = threading.Event()  # a refused call will be refused for everyone: stop early

        def one(uid: str) -> tuple[list[dict[str, Any]], tuple[ActivityCompletion, ...],
                                   CourseCompletion | None, list[str], MoodleError | None]:
            if stop.is_set():
                raise _Skipped
            notes: list[str] = []
            report = self.grade_report(course_id, uid)
            try:  # what was read is kept for progress pages, even if the rest fails
                try:
                    statuses = self.activities_completion(course_id, uid)
                except MoodleError as exc:
                    if exc.errorcode not in _NO_COMPLETION:
                        raise
                    statuses = []
                    notes.append(f"Activity completion is not available: {exc.moodle_message}.")
                try:
                    status = self.course_completion(course_id, uid)
                except MoodleError as exc:
                    if exc.errorcode not in _NO_COMPLETION:
                        raise
                    status = {}
                    notes.append(f"Course completion is not available: {exc.moodle_message}.")
            except MoodleError as exc:
                return report, (), None, notes, exc
            return (report,
                    tuple(_completion(s, activities, {}) for s in statuses
                          if isinstance(s.get("cmid"), int)),
                    _course_completion(status), notes, None)

        total, done = len(learners), 0
        if progress:
            progress(0, total)
        first_error: MoodleError | None = None
        failed = 0
        with ThreadPoolExecutor(max_workers=self.workers,
                                thread_name_prefix="moodle-learner") as pool:
            futures = {pool.submit(one, uid): uid for uid in learners}
            for future in as_completed(futures):
                try:
                    report, acts, course, notes, error = future.result()
                except _Skipped:
                    failed += 1
                    continue
                except MoodleError as exc:
                    report, acts, course, notes, error = [], (), None, [], exc
                reports.extend(report)
                if error is not None:
                    stop.set()
                    failed += 1
                    first_error = first_error or error
                    continue
                out[futures[future]] = (acts, course)
                warnings.extend(notes)
                done += 1
                if progress:
                    progress(done, total)
        if first_error is not None:
            errors.append(f"{failed} of {total} learner(s) were not read: {first_error}")
        return reports, out

    # ------------------------------------------------------------------ the plugin
    def course_facts_page(self, course_id: int | str, page: int, *, since: int = 0,
                          user_id: int | str | None = None) -> dict[str, Any]:
        """One page of ``local_ltibadges_get_course_facts`` (contract (c))."""
        body = self.call(PLUGIN_FUNCTION, courseid=course_id, since=since, page=page,
                         perpage=self.perpage, userid=user_id or 0)
        if not isinstance(body, dict) or not isinstance(body.get("users"), list):
            raise MoodleError(f"Moodle's answer to {PLUGIN_FUNCTION} has no users list.",
                              function=PLUGIN_FUNCTION)
        return body

    def _read_plugin(self, course_id: int | str, progress: ProgressCallback | None,
                     user_id: str | None) -> CourseFacts:
        pages: list[dict[str, Any]] = []
        total: int | None = None
        page = 0
        try:
            while True:
                body = self.course_facts_page(course_id, page, user_id=user_id)
                pages.append(body)
                if total is None:
                    total = int(number(body.get("totalusers")) or 0)
                if progress:
                    progress(min(total, (page + 1) * self.perpage), total)
                if body.get("hasmore") is not True:
                    break
                page += 1
                if page > 100_000:  # a plugin that never says "no more" must not loop forever
                    raise MoodleError(f"{PLUGIN_FUNCTION} kept saying hasmore.",
                                      function=PLUGIN_FUNCTION)
        except MoodleError as exc:
            return build_course_facts(MOODLE, roster=None, facts={}, sources_read=(),
                                      errors=[f"{exc} (page {page} of the course facts)"])
        return plugin_course_facts(pages)


def function_names(info: Mapping[str, Any]) -> set[str]:
    """The web-service functions site info lists for the token's service."""
    return {f.get("name") for f in info.get("functions") or [] if isinstance(f, dict)
            and isinstance(f.get("name"), str)}


def plugin_course_facts(pages: list[dict[str, Any]]) -> CourseFacts:
    """The plugin's pages as the facts the core path produces for the same course.

    Grade items and activities come on every page (the last one wins); users, grades and
    completions are each page's own.  Grade times are ``timemodified`` (a rule's
    ``from``/``until`` compares them), completions with no row read as "incomplete" for
    every activity that tracks completion, as core's completion status lists them.
    """
    last = pages[-1] if pages else {}
    items = {gi["id"]: gi for gi in last.get("gradeitems") or []
             if isinstance(gi, dict) and isinstance(gi.get("id"), int)}
    activities = {a["cmid"]: a for a in last.get("activities") or []
                  if isinstance(a, dict) and isinstance(a.get("cmid"), int)}
    instances = {gi["cmid"]: (gi.get("itemmodule"), gi.get("iteminstance"))
                 for gi in items.values() if isinstance(gi.get("cmid"), int) and gi["cmid"]}
    roster: list[Member] = []
    grades: dict[str, list[GradeFact]] = {}
    done: dict[str, dict[int, ActivityCompletion]] = {}
    courses: dict[str, CourseCompletion | None] = {}
    hidden = 0
    seen: dict[str, ItemSeen] = {}
    for gi in items.values():
        item_id, label, aliases, is_total = _plugin_item(gi)
        seen[item_id] = ItemSeen(item_id=item_id, label=label, tag=None, kind="grade",
                                 source=MOODLE, aliases=aliases,
                                 score_maximum=None if is_total else number(gi.get("grademax")))
    for body in pages:
        for user in body.get("users") or []:
            if not isinstance(user, dict) or not isinstance(user.get("id"), int):
                continue
            roster.append(Member(
                user_id=str(user["id"]), name=_text(user.get("fullname")),
                email=_text(user.get("email")),
                roles=tuple(ROLE_MAP.get(r, f"moodle:role:{r}") for r in user.get("roles") or []
                            if isinstance(r, str) and r),
                # NRPS 2.0 §2.3 statuses: a suspended enrolment is Inactive.
                status=ACTIVE if user.get("status", "active") == "active" else "Inactive",
                given_name=_text(user.get("firstname")), family_name=_text(user.get("lastname")),
                sourcedid=_text(user.get("idnumber")), source=MOODLE))
        for grade in body.get("grades") or []:
            if not isinstance(grade, dict) or grade.get("itemid") not in items:
                continue
            gi = items[grade["itemid"]]
            score = number(grade.get("finalgrade"))
            minimum = number(gi.get("grademin")) or 0.0
            maximum = number(grade.get("grademax"))
            if maximum is None:
                maximum = number(gi.get("grademax"))
            if score is None or maximum is None or maximum <= minimum:
                continue
            if gi.get("hidden"):
                hidden += 1
                continue
            item_id, label, aliases, _total = _plugin_item(gi)
            grades.setdefault(str(grade.get("userid")), []).append(GradeFact(
                item_id=item_id, score=score, maximum=maximum, minimum=minimum,
                time=from_unix(grade.get("timemodified")), label=label, tag=None,
                aliases=aliases, source=MOODLE))
        for row in body.get("completions") or []:
            if not isinstance(row, dict) or not isinstance(row.get("cmid"), int):
                continue
            state = row.get("state") if isinstance(row.get("state"), int) else 0
            activity = activities.get(row["cmid"]) or {}
            done.setdefault(str(row.get("userid")), {})[row["cmid"]] = ActivityCompletion(
                activity_id=f"moodle:cm:{row['cmid']}",
                state=CompletionState.from_moodle(state),
                time=from_unix(row.get("timemodified")) if state else None,
                label=_text(activity.get("name")), tag=None,
                aliases=_instance_alias(*instances.get(row["cmid"], (None, None)))
                or _instance_alias(activity.get("modname"), None), source=MOODLE)
        for row in body.get("coursecompletions") or []:
            if isinstance(row, dict):
                time = from_unix(row.get("timecompleted"))
                courses[str(row.get("userid"))] = CourseCompletion(time=time, source=MOODLE) \
                    if time else None
    tracked = [a for a in activities.values() if a.get("completion")]
    facts: dict[str, Facts] = {}
    for member in roster:
        uid = member.user_id
        rows = done.get(uid, {})
        acts = tuple(rows.get(a["cmid"]) or ActivityCompletion(
            activity_id=f"moodle:cm:{a['cmid']}", state=CompletionState.from_moodle(0),
            time=None, label=_text(a.get("name")), tag=None,
            aliases=_instance_alias(*instances.get(a["cmid"], (None, None))), source=MOODLE)
            for a in tracked)
        acts += tuple(c for cmid, c in rows.items() if cmid not in {a["cmid"] for a in tracked})
        facts[uid] = Facts(grades=tuple(grades.get(uid, ())), completions=acts,
                           course_completion=courses.get(uid))
    for cmid, activity in activities.items():
        seen[f"moodle:cm:{cmid}"] = ItemSeen(
            item_id=f"moodle:cm:{cmid}", label=_text(activity.get("name")), kind="activity",
            source=MOODLE, aliases=_instance_alias(*instances.get(cmid, (None, None))))
    warnings = [f"{hidden} grade(s) hidden from learners were not used."] if hidden else []
    return build_course_facts(MOODLE, roster=roster, facts=facts, sources_read=(MOODLE,),
                              items=seen.values(), warnings=warnings)


def _plugin_item(gi: Mapping[str, Any]) -> tuple[str, str | None, tuple[str, ...], bool]:
    """A plugin grade item's fact id, label and aliases, as ``_read_grades`` makes them."""
    is_total = gi.get("itemtype") == "course"
    label = _text(gi.get("itemname")) or ("Course total" if is_total else None)
    cmid = gi.get("cmid") if isinstance(gi.get("cmid"), int) and gi.get("cmid") else None
    aliases: tuple[str, ...] = ()
    if cmid is not None:
        aliases = (f"moodle:cm:{cmid}",)
    elif is_total:
        aliases = ("moodle:course-total",)
    return f"moodle:gradeitem:{gi['id']}", label, aliases, is_total


def _instance_alias(modname: Any, instance: Any) -> tuple[str, ...]:
    if isinstance(modname, str) and modname and isinstance(instance, int):
        return (f"moodle:{modname}:{instance}",)
    return ()


def _cmid(activity_id: str) -> int | None:
    tail = activity_id.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else None


class _Skipped(Exception):
    """A per-learner call not made because another one already failed."""


class MoodleCourseSource:
    """One course through the connector, behind the :class:`FactSource` interface."""

    name = MOODLE

    def __init__(self, connector: MoodleClient, course_id: int | str) -> None:
        self.connector = connector
        self.course_id = course_id

    def read(self, progress: ProgressCallback | None = None) -> CourseFacts:
        return self.connector.read_course(self.course_id, progress)

    def read_user(self, user_id: str, progress: ProgressCallback | None = None) -> CourseFacts:
        """One learner's facts only (the sync after a signed notice)."""
        return self.connector.read_course(self.course_id, progress, user_id=user_id)


# ---------------------------------------------------------------------- errors
def moodle_error(function: str, body: Mapping[str, Any]) -> MoodleError:
    """Turn Moodle's ``{exception, errorcode, message}`` into an error an admin can act on."""
    code = str(body.get("errorcode") or "")
    exception = str(body.get("exception") or "")
    message = str(body.get("message") or "").strip()
    debuginfo = str(body.get("debuginfo") or "").strip() or None
    fields: dict[str, Any] = {"function": function, "errorcode": code, "exception": exception,
                              "moodle_message": message, "debuginfo": debuginfo}
    said = f"Moodle refused {function}: \"{message}\" ({code})"

    if code == "invalidtoken":
        return MoodleError(
            f"{said}. The connector's web-service token is unknown to Moodle (deleted, expired "
            "or mistyped). Create a token under Site administration > Server > Web services > "
            f"Manage tokens for the connector user and the service '{SERVICE_NAME}', then save it "
            "in the connector settings.", **fields)

    capability = _missing_capability(function, code, message, debuginfo)
    if code == "accessexception":
        if capability:
            return MoodleError(f"{said}. {_add_capability(capability)}",
                               capability=capability, **fields)
        return MoodleError(
            f"{said}. Add the function {function} to the external service '{SERVICE_NAME}' "
            "(Site administration > Server > Web services > External services > Functions); "
            "also check that the connector user is an authorised user of that service, that "
            "the token belongs to that service, and that the connector's role has "
            f"webservice/rest:use. See {SETUP_DOC}.", **fields)
    if capability:
        return MoodleError(f"{said}. {_add_capability(capability)}", capability=capability, **fields)
    if code == "invalidrecord" and "external_functions" in message:
        return MoodleError(f"{said}. This Moodle has no web-service function {function}; "
                           "it needs Moodle 4.x or later.", **fields)
    if code == "invalidrecord":
        return MoodleError(f"{said}. A record the call names does not exist (check the course "
                           "id the connector uses).", **fields)
    if code == "invalidparameter":
        detail = f" ({debuginfo})" if debuginfo else ""
        return MoodleError(f"{said}{detail}. The parameters sent do not fit this Moodle's "
                           "function; check the course id, or report it as a bug.", **fields)
    return MoodleError(f"{said}.", **fields)


def _missing_capability(function: str, code: str, message: str, debuginfo: str | None) -> str | None:
    if debuginfo:
        found = re.search(r"missing capability: ([a-z]+/[a-z0-9_]+:[a-z0-9_]+)", debuginfo)
        if found:
            return found.group(1)
    if code == "nopermissions":
        label = re.search(r"\(([^()]+)\)\.?$", message)
        if label and label.group(1) in _CAPABILITY_BY_LABEL:
            return _CAPABILITY_BY_LABEL[label.group(1)]
        return _CAPABILITY_BY_FUNCTION.get(function)
    if code == "cannotviewreport" and function == "core_completion_get_activities_completion_status":
        return "report/progress:view"
    return _CAPABILITY_BY_CODE.get(code)


def _add_capability(capability: str) -> str:
    return (f"Give the connector's role the capability {capability} (Site administration > "
            "Users > Permissions > Define roles > the connector's role > Allow), and keep the "
            f"role assigned to the connector user at system level. See {SETUP_DOC}.")


# ---------------------------------------------------------------------- mapping
def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None




def from_unix(value: Any) -> datetime | None:
    """Moodle's Unix times; 0 and null mean "never"."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return datetime.fromtimestamp(value, UTC)


def fact_time(record: Mapping[str, Any], *fields: str) -> datetime | None:
    """A fact's own time in Moodle: the first of ``fields`` that is set. A grade's
    ``timemodified`` (when its value last changed) comes before the graded/submitted dates; a
    completion's ``timecompleted`` before its record's ``timemodified``. None when Moodle gives
    no time: the tool then uses when it first saw the value (``services.fact_times``)."""
    for name in fields:
        found = from_unix(record.get(name))
        if found is not None:
            return found
    return None


def _activity_aliases(activity: Activity) -> tuple[str, ...]:
    if activity.modname and activity.instance is not None:
        return (f"moodle:{activity.modname}:{activity.instance}",)
    return ()


def _read_grades(report: list[dict[str, Any]], grades: dict[str, list[GradeFact]],
                 seen: dict[str, ItemSeen], idnumbers: dict[int, str]) -> int:
    """Fill ``grades`` (by user), ``seen`` and ``idnumbers``; return how many were hidden."""
    hidden = 0
    for user in report:
        if not isinstance(user.get("userid"), int):
            continue
        uid = str(user["userid"])
        for gi in user.get("gradeitems") or []:
            if not isinstance(gi, dict) or not isinstance(gi.get("id"), int):
                continue
            item_id = f"moodle:gradeitem:{gi['id']}"
            is_total = gi.get("itemtype") == "course"
            label = _text(gi.get("itemname")) or ("Course total" if is_total else None)
            tag = _text(gi.get("idnumber"))
            cmid = gi.get("cmid") if isinstance(gi.get("cmid"), int) else None
            aliases: tuple[str, ...] = ()
            if cmid is not None:
                aliases = (f"moodle:cm:{cmid}",)
                if tag:
                    idnumbers[cmid] = tag
            elif is_total:
                aliases = ("moodle:course-total",)
            minimum = number(gi.get("grademin")) or 0.0
            maximum = number(gi.get("grademax"))
            if item_id not in seen:
                seen[item_id] = ItemSeen(
                    item_id=item_id, label=label, tag=tag, kind="grade", source=MOODLE,
                    # The course total's maximum differs per learner: no single value.
                    score_maximum=None if is_total else maximum, aliases=aliases)
            score = number(gi.get("graderaw"))
            if score is None or maximum is None or maximum <= minimum:
                continue
            if gi.get("gradeishidden") or gi.get("gradehiddenbydate"):
                hidden += 1
                continue
            grades.setdefault(uid, []).append(GradeFact(
                item_id=item_id, score=score, maximum=maximum, minimum=minimum,
                time=fact_time(gi, "timemodified", "gradedategraded", "gradedatesubmitted"),
                label=label, tag=tag, aliases=aliases, source=MOODLE))
    return hidden


def _completion(status: dict[str, Any], activities: dict[int, Activity],
                idnumbers: dict[int, str]) -> ActivityCompletion:
    cmid = status["cmid"]
    activity = activities.get(cmid)
    state = status.get("state")
    aliases: tuple[str, ...] = ()
    modname, instance = status.get("modname"), status.get("instance")
    if isinstance(modname, str) and isinstance(instance, int):
        aliases = (f"moodle:{modname}:{instance}",)
    return ActivityCompletion(
        activity_id=f"moodle:cm:{cmid}",
        state=CompletionState.from_moodle(state if isinstance(state, int) else 0),
        time=fact_time(status, "timecompleted", "timemodified"),
        label=(activity.name or None) if activity else None,
        tag=idnumbers.get(cmid),
        aliases=aliases,
        source=MOODLE,
    )


def _course_completion(status: dict[str, Any]) -> CourseCompletion | None:
    if status.get("completed") is not True:
        return None
    # The answer has no course-level time: the course completes when its criteria do,
    # the last of them for "all" (aggregation 1), the first for "any" (2).
    times = [t for t in (from_unix(c.get("timecompleted")) for c in status.get("completions") or []
                         if isinstance(c, dict) and c.get("complete")) if t]
    if not times:
        return CourseCompletion(time=None, source=MOODLE)
    return CourseCompletion(time=min(times) if status.get("aggregation") == 2 else max(times),
                            source=MOODLE)
