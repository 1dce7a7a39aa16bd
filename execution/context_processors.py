from .models import Notification


def unread_notifications(request):
    """How many in-app notifications the signed-in user has not read (for the top bar)."""
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False):
        return {}
    return {
        "unread_notifications": Notification.objects.filter(user=user, read_at__isnull=True).count()
    }
