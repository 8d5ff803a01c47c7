"""Issue 11, the jobs pages in chromium: queued, running with live progress, failed with its
reason and Retry, cancelled; Cancel asks first and the poll waits while it asks; polling stops
when nothing is active; axe-core in both themes; screenshots (1280x900 and 375 px, light and
dark) left in test-artifacts/screenshots/jobs/."""
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from memories.models import TagBatch
from memories.worker.models import Job
from tests.support.browsers import PHONE, SCREENSHOTS, WIDE, violations

pytestmark = pytest.mark.browser

SHOTS = SCREENSHOTS / "jobs"


@pytest.fixture
def jobs(handle, user):
    """One job in each state, as the worker leaves them (the live server runs none of them)."""
    client, now = handle.client, timezone.now()
    batch = TagBatch.objects.create(client=client, tag="triage", selection="type=error", memory_ids=[])

    def job(kind, status, **fields):
        return Job.objects.create(client=client, kind=kind, status=status, actor=user, **fields)

    made = {
        "done": job("export", Job.DONE, started_at=now, finished_at=now, attempts=1, progress_done=294,
                    progress_total=294, result={"file": "9-acme.json", "bytes": 52_000, "memories": 294}),
        "cancelled": job("bulk_tag", Job.CANCELLED, started_at=now, finished_at=now, attempts=1,
                         cancelled_by="alice", params={"batch": batch.pk, "memory_ids": []},
                         message="Cancelled by alice: #triage was added to 500 of 2,000 memories; Undo "
                                 "on the Tags page removes it from those."),
        "failed": job("import", Job.FAILED, started_at=now, finished_at=now, attempts=3, params={"import": 0},
                      message="Failed after 3 attempt(s): the worker stopped while running this job "
                              "(killed or restarted); press Retry."),
        "running": job("bulk_tag", Job.RUNNING, started_at=now, heartbeat_at=now, attempts=1, worker="kb:1",
                       progress_done=500, progress_total=2000, params={"batch": batch.pk, "memory_ids": []}),
        "rebuild": job("rebuild", Job.QUEUED),  # an admin's to cancel: alice, an editor, sees no button
        "queued": job("bulk_tag", Job.QUEUED, params={"batch": batch.pk, "memory_ids": []}),
    }
    return made


def _row(page, job):
    return page.locator(f"#job-row-{job.pk}")


def test_the_jobs_page_shows_each_state_and_follows_progress_live(new_page, jobs):
    errors = []
    page = new_page(errors=errors)
    page.goto("/c/acme/memories/")
    page.locator("details.account > summary").click()  # under the user's name, with Sync status
    page.get_by_role("link", name="Jobs of Acme").click()
    expect(page).to_have_url(re.compile(r"/c/acme/jobs/$"))
    expect(page.locator(".job-counts")).to_contain_text(
        "1 running · 2 queued · 1 failed · 1 cancelled · 1 done")
    expect(_row(page, jobs["rebuild"])).to_contain_text("cancelled and retried by the database's admins")
    expect(_row(page, jobs["rebuild"]).locator("summary, button")).to_have_count(0)
    expect(_row(page, jobs["queued"])).to_contain_text("Queued")
    expect(_row(page, jobs["queued"]).locator("summary")).to_have_text("Cancel…")
    running = _row(page, jobs["running"])
    expect(running).to_contain_text("500 of 2000 (25%)")
    expect(running.locator("progress")).to_have_attribute("value", "500")
    expect(_row(page, jobs["failed"])).to_contain_text("the worker stopped while running this job")
    retry = _row(page, jobs["failed"]).get_by_role("button", name=f"Retry job {jobs['failed'].pk}")
    expect(retry).to_be_visible()
    expect(_row(page, jobs["cancelled"])).to_contain_text("#triage was added to 500 of 2,000 memories")
    expect(_row(page, jobs["done"])).to_contain_text("Done")
    expect(_row(page, jobs["done"]).locator("summary, button")).to_have_count(0)  # nothing to press
    # The worker moves on: the page follows without a reload.
    Job.objects.filter(pk=jobs["running"].pk).update(progress_done=1500)
    expect(running).to_contain_text("1500 of 2000 (75%)", timeout=4000)
    # Nothing active any more: the list stops polling.
    Job.objects.filter(status__in=Job.ACTIVE).update(status=Job.DONE, finished_at=timezone.now())
    expect(page.locator("#jobs[data-job-poll]")).to_have_count(0, timeout=4000)
    polls = []
    page.on("request", lambda r: polls.append(r.url) if "/jobs/" in r.url else None)
    page.wait_for_timeout(2500)
    assert polls == [] and not errors, (polls, errors)


def test_cancel_asks_first_the_poll_waits_and_a_cancelled_job_can_be_retried(new_page, jobs):
    page = new_page()
    page.goto("/c/acme/jobs/")
    queued = _row(page, jobs["queued"])
    queued.locator("summary", has_text="Cancel…").click()
    expect(queued).to_contain_text("It will not start.")
    # While the confirmation is open the list is not replaced under it (the worker moved on meanwhile).
    Job.objects.filter(pk=jobs["running"].pk).update(progress_done=1000)
    page.wait_for_timeout(2200)
    expect(_row(page, jobs["running"])).to_contain_text("500 of 2000")
    expect(queued.locator("details")).to_have_attribute("open", "")
    queued.get_by_role("button", name=f"Cancel job {jobs['queued'].pk}").click()
    expect(queued).to_contain_text("Cancelled by alice before it started.")
    expect(queued.locator(".job-state")).to_be_focused()  # not lost with the pressed button
    page.wait_for_timeout(1500)
    expect(queued.locator(".job-state")).to_be_focused()  # nor by the polls after it (same id: htmx keeps it)
    expect(_row(page, jobs["running"])).to_contain_text("1000 of 2000")  # the answer was the whole list
    assert Job.objects.get(pk=jobs["queued"].pk).status == Job.CANCELLED
    # A running bulk tagging: Cancel asks it to stop at its chunk's end, and says what stays.
    running = _row(page, jobs["running"])
    running.locator("summary", has_text="Cancel…").click()
    expect(running).to_contain_text("the tag stays on the memories tagged so far")
    running.get_by_role("button", name=f"Cancel job {jobs['running'].pk}").click()
    expect(running).to_contain_text("Stopping")
    expect(running).to_contain_text("stopping after the chunk in progress")
    expect(running.locator("summary")).to_have_count(0)
    # Retry of the failed job queues it again.
    failed = _row(page, jobs["failed"])
    failed.get_by_role("button", name=f"Retry job {jobs['failed'].pk}").click()
    expect(failed).to_contain_text("Queued")
    assert Job.objects.get(pk=jobs["failed"].pk).status == Job.QUEUED


def test_a_job_page_shows_its_details_and_cancel_there_answers_the_page(new_page, jobs):
    page = new_page()
    page.goto(f"/c/acme/jobs/{jobs['running'].pk}/")
    expect(page.locator("h1")).to_have_text(f"Bulk tagging #{jobs['running'].pk}")
    facts = page.locator(".job-facts")
    for text in ("bulk_tag", "by alice", "Last heartbeat", "500 of 2000", "1 of 3", "kb:1"):
        expect(facts).to_contain_text(text)
    page.locator("summary", has_text="Cancel…").click()
    page.get_by_role("button", name=f"Cancel job {jobs['running'].pk}").click()
    expect(page.locator(f"#job-{jobs['running'].pk} .state")).to_have_text("Stopping")
    page.goto(f"/c/acme/jobs/{jobs['done'].pk}/")
    expect(page.get_by_role("link", name="Download 9-acme.json")).to_be_visible()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_jobs_pages_have_no_wcag_violations(new_page, jobs, scheme):
    page = new_page(scheme=scheme)
    found = {}
    page.goto("/c/acme/jobs/")
    found["list"] = violations(page)
    _row(page, jobs["running"]).locator("summary").click()
    found["list, Cancel… open"] = violations(page)
    for name in ("running", "failed", "done"):
        page.goto(f"/c/acme/jobs/{jobs[name].pk}/")
        found[name] = violations(page)
    problems = {name: v for name, v in found.items() if v}
    assert not problems, problems


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots_of_the_jobs_pages(new_page, jobs, scheme):
    """Left in test-artifacts/screenshots/jobs/ to be looked at (not compared); none is wider
    than its viewport."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    pages = {"jobs": "/c/acme/jobs/", "job-running": f"/c/acme/jobs/{jobs['running'].pk}/",
             "job-failed": f"/c/acme/jobs/{jobs['failed'].pk}/"}
    for size, viewport in (("1280", WIDE), ("375", PHONE)):
        page = new_page(viewport, scheme)
        for name, url in pages.items():
            page.goto(url)
            page.screenshot(path=str(SHOTS / f"{name}-{size}-{scheme}.png"), full_page=True)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{name} at {size} px is {overflow} px too wide"
        page.goto("/c/acme/jobs/")
        _row(page, jobs["running"]).locator("summary").click()
        page.screenshot(path=str(SHOTS / f"jobs-cancel-open-{size}-{scheme}.png"), full_page=True)
        # A running export's Cancel says what it leaves: no file.
        export = Job.objects.create(client=jobs["running"].client, kind="export", status=Job.RUNNING,
                                    started_at=timezone.now(), heartbeat_at=timezone.now(), attempts=1,
                                    worker="kb:1", progress_total=294, params={"format": "json", "ids": []})
        page.goto(f"/c/acme/jobs/{export.pk}/")
        page.locator("details summary", has_text="Cancel").first.click()
        assert page.get_by_text("keeps no file").is_visible()
        page.screenshot(path=str(SHOTS / f"job-export-cancel-open-{size}-{scheme}.png"), full_page=True)
        export.delete()
