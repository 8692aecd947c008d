def account_menu(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"is_seller": user.is_seller, "has_store": hasattr(user, "store")}
