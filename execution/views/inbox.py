"""In-app notifications: the signed-in user's inbox."""

from django.shortcuts import render
from django.views.decorators.http import require_POST

from core.notifications import notifications_for, notifications_mark_read
from core.views_helpers import policy_required


@policy_required("core.notification.view")
def inbox(request):
    return render(request, "execution/inbox.html", {"rows": notifications_for(user=request.user)})


@require_POST
@policy_required("core.notification.view")
def inbox_read(request):
    notifications_mark_read(user=request.user)
    return render(request, "execution/inbox.html", {"rows": notifications_for(user=request.user)})
