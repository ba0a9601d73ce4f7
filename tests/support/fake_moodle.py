"""A fake Moodle web-service server on 127.0.0.1 for as many learners as a test needs.

The recorded course has two students; a concurrency test or a benchmark needs hundreds or
thousands. This server answers the same functions as the replay (tests/unit/sources/replay.py)
with the recorded answers as templates (student1's grade report and completion statuses,
the recorded site info, course contents and grade items), one synthetic learner per user id,
and answers ``local_ltibadges_get_course_facts`` (contract (c)) from the very same data,
so both modes can be compared on identical facts.

It counts what a test needs to see: calls per function, and the most requests it was
serving at once (``max_in_flight``), to show the connector's pool bound. ``latency``
seconds are slept per call (Moodle's own work: ~1.6 s per completion call on the real
site), ``fail_user`` answers that learner's grade report with a Moodle error.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections import Counter
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from tests.support.moodle import recorded
from tests.support.servers import free_port

WS = "webservices/"
TOKEN = recorded(WS + "core_webservice_get_site_info.json")["request"]["body_form"]["wstoken"]
PLUGIN = "local_ltibadges_get_course_facts"
T0 = 1795327550  # the recording's grading time


def _body(name: str) -> Any:
    return recorded(WS + name + ".json")["response"]["body_json"]


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class Learner:
    """One synthetic learner: grades and completions that vary with the id."""

    def __init__(self, uid: int):
        self.uid = uid
        self.essay = float(30 + (uid * 7) % 71)  # 30..100
        self.final = None if uid % 3 == 0 else float(50 + uid % 50)
        self.lti = float(70) if uid % 2 else None
        self.states = {3: uid % 2, 1: 2 if self.essay >= 50 else 3,
                       2: 1 if self.final is not None else 0, 4: 1 if self.lti else 0}
        self.completed = self.essay >= 50 and self.final is not None

    @property
    def total(self) -> tuple[float, float]:
        got = [g for g in (self.essay, self.final, self.lti) if g is not None]
        return sum(got), 100.0 * len(got) + 1


class FakeMoodle:
    def __init__(self, learners: int, *, plugin: bool = False, latency: float = 0.0,
                 fail_user: int | None = None, first_id: int = 100) -> None:
        self.learners = {uid: Learner(uid) for uid in range(first_id, first_id + learners)}
        self.plugin = plugin
        self.latency = latency
        self.fail_user = fail_user
        self.calls: Counter[str] = Counter()
        self.user_calls: Counter[str] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._templates()
        self.port = free_port()
        self._server = make_server("127.0.0.1", self.port, self._wsgi, threaded=True,
                                   request_handler=_Quiet)
        self._server.request_queue_size = 256
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def site_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FakeMoodle:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # ------------------------------------------------------------------ answers
    def _templates(self) -> None:
        info = _body("core_webservice_get_site_info")
        if self.plugin:
            info = {**info, "functions": [*info["functions"],
                                          {"name": PLUGIN, "version": "2026120200"}]}
        self.site_info = info
        self.contents = _body("core_course_get_contents")
        self.gradeitems_names = _body("core_grades_get_gradeitems")
        self.report_template = _body("gradereport_user_get_grade_items-student1")["usergrades"][0]
        self.statuses_template = _body(
            "core_completion_get_activities_completion_status-student1")["statuses"]
        self.course_template = _body(
            "core_completion_get_course_completion_status-student1")["completionstatus"]
        enrolled = _body("core_enrol_get_enrolled_users")
        self.teacher = enrolled[0]
        self.student_template = enrolled[1]

    def _user(self, uid: int) -> dict[str, Any]:
        user = copy.deepcopy(self.student_template)
        user.update(id=uid, firstname=f"Learner{uid}", lastname="Test",
                    fullname=f"Learner{uid} Test", email=f"learner{uid}@example.invalid")
        return user

    def enrolled(self) -> list[dict[str, Any]]:
        return [self.teacher, *(self._user(uid) for uid in self.learners)]

    def report(self, uid: int) -> dict[str, Any]:
        learner = self.learners[uid]
        report = copy.deepcopy(self.report_template)
        report.update(userid=uid, userfullname=f"Learner{uid} Test")
        values = {2: learner.essay, 3: learner.final, 4: learner.lti, 5: 0.0,
                  1: learner.total[0]}
        for item in report["gradeitems"]:
            item["graderaw"] = values[item["id"]]
            item["gradedategraded"] = T0 if values[item["id"]] is not None else None
            if item["id"] == 1:
                item["grademax"] = learner.total[1]
        return report

    def statuses(self, uid: int) -> list[dict[str, Any]]:
        learner = self.learners[uid]
        out = copy.deepcopy(self.statuses_template)
        for status in out:
            status["state"] = learner.states[status["cmid"]]
            status["timecompleted"] = T0 if status["state"] else 0
        return out

    def course_completion(self, uid: int) -> dict[str, Any]:
        status = copy.deepcopy(self.course_template)
        done = self.learners[uid].completed
        status["completed"] = done
        for criterion in status["completions"]:
            criterion["complete"] = done
            criterion["timecompleted"] = T0 if done else None
        return status

    def facts_page(self, page: int, perpage: int, userid: int) -> dict[str, Any]:
        """Contract (c), from the same learners as the core answers."""
        ids = [userid] if userid else sorted(self.learners)
        users = [3, *ids] if not userid else ids  # the teacher first: lowest id
        chunk = users[page * perpage:(page + 1) * perpage]
        grades, completions, courses, out_users = [], [], [], []
        for uid in chunk:
            if uid == 3:
                t = self.teacher
                out_users.append({"id": 3, "idnumber": "", "email": t["email"],
                                  "firstname": t["firstname"], "lastname": t["lastname"],
                                  "fullname": t["fullname"], "roles": ["editingteacher"],
                                  "status": "active", "timemodified": T0})
                continue
            if uid not in self.learners:
                continue
            learner = self.learners[uid]
            out_users.append({"id": uid, "idnumber": "", "email": f"learner{uid}@example.invalid",
                              "firstname": f"Learner{uid}", "lastname": "Test",
                              "fullname": f"Learner{uid} Test", "roles": ["student"],
                              "status": "active", "timemodified": T0})
            for itemid, value in ((2, learner.essay), (3, learner.final), (4, learner.lti),
                                  (5, 0.0), (1, learner.total[0])):
                if value is not None:
                    grades.append({"itemid": itemid, "userid": uid, "finalgrade": value,
                                   "grademax": learner.total[1] if itemid == 1 else
                                   (1.0 if itemid == 5 else 100.0), "timemodified": T0})
            for cmid, state in learner.states.items():
                if state:
                    completions.append({"cmid": cmid, "userid": uid, "state": state,
                                        "timemodified": T0})
            courses.append({"userid": uid, "timecompleted": T0 if learner.completed else 0})
        items = []
        for gi in self.report_template["gradeitems"]:
            items.append({"id": gi["id"], "itemname": gi["itemname"] or "",
                          "itemtype": gi["itemtype"], "itemmodule": gi["itemmodule"] or "",
                          "iteminstance": gi["iteminstance"] or 0, "cmid": gi.get("cmid") or 0,
                          "grademax": float(gi["grademax"]), "grademin": float(gi["grademin"]),
                          "gradepass": 0.0, "hidden": False})
        activities = [{"cmid": m["id"], "modname": m["modname"], "name": m["name"],
                       "completion": m.get("completion", 0)}
                      for section in self.contents for m in section["modules"]]
        return {"courseid": 2, "since": 0, "servertime": int(time.time()), "page": page,
                "perpage": perpage, "totalusers": len(users),
                "hasmore": (page + 1) * perpage < len(users), "users": out_users,
                "gradeitems": items, "grades": grades, "completions": completions,
                "activities": activities, "coursecompletions": courses}

    def answer(self, form: dict[str, str]) -> Any:
        fn = form.get("wsfunction", "")
        if form.get("wstoken") != TOKEN:
            return _body("ws-error-invalid-token")
        uid = int(form["userid"]) if form.get("userid", "0") not in ("", "0") else 0
        if fn == "core_webservice_get_site_info":
            return self.site_info
        if fn == "core_course_get_contents":
            return self.contents
        if fn == "core_enrol_get_enrolled_users":
            return self.enrolled()
        if fn == "core_grades_get_gradeitems":
            return self.gradeitems_names
        if fn == "gradereport_user_get_grade_items":
            if uid and uid == self.fail_user:
                return _body("ws-error-function-not-in-service")
            ids = [uid] if uid else sorted(self.learners)
            return {"usergrades": [self.report(i) for i in ids if i in self.learners],
                    "warnings": []}
        if fn == "core_completion_get_activities_completion_status" and uid in self.learners:
            return {"statuses": self.statuses(uid), "warnings": []}
        if fn == "core_completion_get_course_completion_status" and uid in self.learners:
            return {"completionstatus": self.course_completion(uid), "warnings": []}
        if fn == PLUGIN and self.plugin:
            perpage = min(2000, int(form.get("perpage") or 500))
            return self.facts_page(int(form.get("page") or 0), perpage, uid)
        return _body("ws-error-function-not-in-service")

    def _wsgi(self, environ, start_response):
        request = Request(environ)
        form = request.form.to_dict()
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.calls[form.get("wsfunction", "")] += 1
            if form.get("userid"):
                self.user_calls[form["userid"]] += 1
        try:
            if self.latency:
                time.sleep(self.latency)
            body = json.dumps(self.answer(form))
        finally:
            with self._lock:
                self.in_flight -= 1
        return Response(body, mimetype="application/json")(environ, start_response)
