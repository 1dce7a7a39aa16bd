from .notifications import notifications_unread_count


def unread_notifications(request):
    """How many in-app notifications the signed-in user has not read (for the top bar)."""
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False):
        return {}
    return {"unread_notifications": notifications_unread_count(user=user)}
