"""Per-file claims (ingest/landing_state.py `LandingClaims`) in a real Dagster instance's database,
judged against its real run records, on SQLite and PostgreSQL."""

import pytest

from gn_pipelines.ingest.landing_state import LandingClaims, LandingStateStore
from gn_pipelines.run_outcomes import OUTCOME_TAG, QUARANTINED
from gn_pipelines_tests.conftest import on_both_storages

pytestmark = on_both_storages
A, B, C = (f"48170/civil_complaints/2025-03-0{day}.csv" for day in (1, 2, 3))
SHA = {A: "a" * 64, B: "b" * 64, C: "c" * 64}


def files(*relatives: str) -> list[tuple[str, str]]:
    return [(relative, SHA[relative]) for relative in relatives]


@pytest.fixture
def claims(instance) -> LandingClaims:
    return LandingClaims(LandingStateStore.of_instance(instance))


def run_in(instance, status: str) -> str:
    """A run recorded in the instance with this status (as a run of any launcher would be)."""
    import dagster as dg
    from dagster._core.test_utils import create_run_for_test

    return create_run_for_test(instance, job_name="collect", status=dg.DagsterRunStatus(status)).run_id


def test_two_batches_of_one_month_with_different_files_share_no_file(instance, claims):
    first, second = run_in(instance, "STARTED"), run_in(instance, "STARTED")
    taken = claims.claim(first, files(A, B))
    assert taken.held == files(A, B) and taken.elsewhere == {}
    later = claims.claim(second, files(A, B, C))  # the same month planned after C landed
    assert later.held == files(C)
    assert {relative: holder.why() for relative, holder in later.elsewhere.items()} == {
        A: f"run {first[:8]} holds it (started)", B: f"run {first[:8]} holds it (started)"}
    again = claims.claim(first, files(A, B))  # a step re-executed in the same run keeps its files
    assert again.held == files(A, B)


def test_a_file_loaded_is_never_claimed_again_but_new_bytes_are(instance, claims):
    loader = run_in(instance, "SUCCESS")  # it claimed A when it started, then succeeded
    claims.claim(loader, files(A))
    later = claims.claim(run_in(instance, "STARTED"), files(A) + [(A, "d" * 64)])
    assert later.held == [(A, "d" * 64)]  # a correction: the same name with other bytes
    assert later.elsewhere[A].why() == f"run {loader[:8]} already loaded it"


def test_a_failed_or_vanished_holder_frees_its_files_a_stopped_one_does_not(instance, claims):
    failed, stopped, gone = (run_in(instance, "STARTED") for _ in range(3))
    claims.claim(failed, files(A))
    claims.claim(stopped, files(B))
    claims.claim(gone, files(C))
    for run_id in (failed, stopped):
        instance.report_run_failed(instance.get_run_by_id(run_id))
    instance.add_run_tags(stopped, {OUTCOME_TAG: QUARANTINED})  # its data was stopped: a verdict
    instance.delete_run(gone)
    retry = run_in(instance, "STARTED")
    taken = claims.claim(retry, files(A, B, C))
    assert taken.held == files(A, C)
    assert taken.elsewhere[B].why() == f"run {stopped[:8]} already loaded it"



def test_a_reexecution_redoes_the_files_of_the_run_it_reexecutes_and_no_other(instance, claims):
    from gn_pipelines.ingest.batch import BatchFile
    from gn_pipelines.ingest.collect_batch import claim_batch

    loaded, other = run_in(instance, "SUCCESS"), run_in(instance, "STARTED")
    claims.claim(loaded, files(A, B))
    claims.claim(other, files(C))
    batch = [BatchFile(relative, sha, "48170") for relative, sha in files(A, B, C)]
    # the data engineer re-executes the run that loaded A and B: it redoes them; C is another run's
    again = claim_batch(claims, batch, run_in(instance, "STARTED"), lineage=[loaded])
    assert [f.relative for f in again.files] == [A, B]
    assert again.held_elsewhere == {C: f"run {other[:8]} holds it (started)"}
    # a run that re-executes nothing still leaves them all
    fresh = claim_batch(claims, batch, run_in(instance, "STARTED"))
    assert fresh.files == [] and sorted(fresh.held_elsewhere) == [A, B, C]


def test_a_file_given_back_counts_as_not_loaded_and_is_taken_by_the_next_run(instance, claims):
    """A file gone from the landing zone before its batch archived it: the batch succeeds, but
    the file was not loaded, so the run that finds it again must take it (it was skipped for ever)."""
    batch = run_in(instance, "SUCCESS")
    claims.claim(batch, files(A, B))
    claims.give_back(batch, files(B))
    holders = claims.holders(files(A, B))
    assert holders[files(A)[0]].loaded and not holders[files(B)[0]].loaded
    assert claims.claim(run_in(instance, "STARTED"), files(A, B)).held == files(B)


def test_the_same_bytes_loaded_under_another_name_of_the_folder_are_found_by_their_digest(instance, claims):
    renamed, other_provider = "48170/civil_complaints/민원_2025-03-01.csv", "48250/civil_complaints/2025-03-01.csv"
    claims.claim(run_in(instance, "SUCCESS"), files(A))
    claims.claim(run_in(instance, "FAILURE"), files(B))  # a failed holder loaded nothing
    assert claims.loaded_elsewhere([(renamed, SHA[A]), (other_provider, SHA[A]), (C, SHA[B]), (A, SHA[A])]) == {
        (renamed, SHA[A])}  # another provider's copy is its own delivery; A itself is no copy of A


def test_the_first_claim_dates_the_runs_from_before_claims(instance, claims):
    assert claims.first_claimed_at() is None
    claims.claim(run_in(instance, "STARTED"), files(B), now=2_000.0)
    claims.claim(run_in(instance, "STARTED"), files(A), now=1_000.0)
    assert claims.first_claimed_at() == 1_000.0


def test_a_file_recorded_as_finished_stays_loaded_when_its_run_is_deleted(instance, claims):
    """Someone tidies the Runs page: the run that loaded A and B is deleted. A, recorded finished
    in the landing state, is not claimed again; B, never recorded so, counts as not loaded (as
    the files of a deleted failed run must)."""
    from gn_pipelines.ingest.planning import KnownFile

    store = LandingStateStore.of_instance(instance)
    loader = run_in(instance, "SUCCESS")
    claims.claim(loader, files(A, B))
    store.record({A: KnownFile(10, 1, SHA[A], True), B: KnownFile(10, 1, SHA[B], False)})
    instance.delete_run(loader)
    later = claims.claim(run_in(instance, "STARTED"), files(A, B) + [(A, "d" * 64)])
    assert later.held == [(A, "d" * 64), files(B)[0]]  # a correction of A is new bytes: claimed
    assert later.elsewhere[A].loaded and later.elsewhere[A].why() == f"run {loader[:8]} already loaded it"


def test_the_files_whose_runs_loaded_or_stopped_them_are_recorded_finished_in_one_statement(instance, claims):
    from gn_pipelines.ingest.planning import KnownFile

    store = LandingStateStore.of_instance(instance)
    loaded, stopped, failed, going = (run_in(instance, s) for s in ("SUCCESS", "FAILURE", "FAILURE", "STARTED"))
    instance.add_run_tags(stopped, {OUTCOME_TAG: QUARANTINED})
    landed = files(A, B, C) + [("48170/civil_complaints/2025-03-04.csv", "e" * 64)]
    for run_id, claimed in zip((loaded, stopped, failed, going), landed):
        claims.claim(run_id, [claimed])
    store.record({relative: KnownFile(10, 1, sha256, False) for relative, sha256 in landed})
    store.record({"48170/civil_complaints/other.csv": KnownFile(10, 1, "f" * 64, False)})  # never claimed
    assert claims.record_finished() == 2
    assert {relative for relative, known in store.everything().items() if known.done} == {A, B}
    assert claims.record_finished() == 0  # already recorded: nothing to do
