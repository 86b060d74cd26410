"""drf-spectacular description of the customer JWT (scheme name `jwtAuth`, as for simplejwt)."""
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object


class CustomerJWTScheme(OpenApiAuthenticationExtension):
    target_class = "auth_app.authentication.CustomerJWTAuthentication"
    name = "jwtAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(header_name="AUTHORIZATION", token_prefix="Bearer",
                                                   bearer_format="JWT")
