from oauth2_provider.oauth2_validators import OAuth2Validator


class MarketplaceAccounts(OAuth2Validator):
    """`sub` is the marketplace id (the username here), as the marketplace's own provider gives it."""

    def get_claim_dict(self, request):
        user = request.user
        return {
            "sub": user.username,
            "email": user.email,
            "email_verified": True,
            "given_name": user.first_name,
        }
