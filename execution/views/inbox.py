"""In-app notifications: the signed-in user's inbox."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_POST

from ..models import Notification


@login_required
def inbox(request):
    rows = Notification.objects.filter(user=request.user).select_related("alert")[:200]
    return render(request, "execution/inbox.html", {"rows": rows})


@require_POST
@login_required
def inbox_read(request):
    Notification.objects.filter(user=request.user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    rows = Notification.objects.filter(user=request.user).select_related("alert")[:200]
    return render(request, "execution/inbox.html", {"rows": rows})
