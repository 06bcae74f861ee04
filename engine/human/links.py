"""Using a one-click decision link: whose it is, whether it still works, and the decision it takes.

A link decides only through decide_task, so assignees, claims, four-eyes and one answer per
person hold exactly as in the inbox. Its nonce is recorded in the transaction that records the
decision: a link decides at most once, and a refused decision leaves it unused.
"""

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from engine.human.deciding import decide_task
from engine.human.standing import four_eyes_problem
from engine.human.tasks import TaskError
from engine.human.tokens import LinkClaim, LinkRefused, read_link
from engine.models import HumanTask, TaskDecision, TaskStatus, UsedDecisionLink

USED = "this link was used already"


def access_link(token: str, user: User) -> tuple[LinkClaim, HumanTask]:
    """The link's claim and its task, for the user the link was made for; else LinkRefused."""
    claim = read_link(token)
    if claim.user_id != user.pk:
        owner = User.objects.filter(pk=claim.user_id).values_list("username", flat=True).first()
        raise LinkRefused(
            f"this link was made for {owner or 'someone else'}, and you are logged in as "
            f"{user.get_username()}; only they can use it",
            status=403,
        )
    if UsedDecisionLink.objects.filter(nonce=claim.nonce).exists():
        raise LinkRefused(USED, status=410)
    task = HumanTask.objects.select_related("run").filter(pk=claim.task_id).first()
    if task is None:
        raise LinkRefused("the task this link was for no longer exists", status=404)
    return claim, task


def check_decidable(task: HumanTask, user: User) -> None:
    """What the confirm page says before anyone presses its button: a TaskError when the task is
    closed, the user answered already or the four-eyes rule keeps them out (decide_task checks
    all of it again)."""
    if task.status != TaskStatus.OPEN:
        raise TaskError(f"the task is already {task.get_status_display().lower()}", status=409)
    if TaskDecision.objects.filter(Q(user=user) | Q(decided_by=user), task=task).exists():
        raise TaskError("this task already has your answer", status=409)
    reason = four_eyes_problem(task, user)
    if reason:
        raise TaskError(reason, status=403)


def decide_by_link(token: str, user: User, comment: str = "") -> HumanTask:
    """Take the link's decision for the user it was made for; LinkRefused or TaskError if not."""
    claim, _ = access_link(token, user)
    refused: TaskError | None = None
    try:
        with transaction.atomic():
            try:
                task = decide_task(claim.task_id, user, claim.decision, comment)
            except TaskError as error:
                # decide_task rolled its own savepoint back and noted the refusal in the task's
                # history; catching it here keeps that note and leaves the link unused.
                refused = error
            else:
                UsedDecisionLink.objects.create(
                    nonce=claim.nonce,
                    task_id=claim.task_id,
                    user=user,
                    decision=claim.decision,
                    used_at=timezone.now(),
                )
    except IntegrityError:
        # Two requests raced with one link: the run's lock makes the second decision a 409, so
        # this is only reached if that ever changes; the decision rolled back with the nonce.
        raise LinkRefused(USED, status=410) from None
    if refused is not None:
        raise refused
    return task
