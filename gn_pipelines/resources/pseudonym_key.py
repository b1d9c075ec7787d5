"""The pseudonymisation secret (`GN_PSEUDONYM_KEY`): read at run time, never stored or logged."""

from __future__ import annotations

import logging
import os

import dagster as dg

from gn_pipelines.settings import PSEUDONYM_KEY_ENV

logger = logging.getLogger(__name__)


def warn_if_pseudonym_key_missing() -> bool:
    """Say loudly, once per process that loads the platform, that the key is unset."""
    if os.environ.get(PSEUDONYM_KEY_ENV):
        return False
    logger.warning(
        "%s is not set. Collection works, but de-identification will refuse to run until it is: "
        "set it to a long random secret outside the repository (e.g. `export %s=$(openssl rand -hex 32)`).",
        PSEUDONYM_KEY_ENV, PSEUDONYM_KEY_ENV,
    )
    return True


class PseudonymKeyResource(dg.ConfigurableResource):
    """Gives the secret to the de-identification stage, and a key id that is safe to record."""

    # Only the variable's name is configuration; the secret is read at run time. (A resource
    # with no field at all makes Dagster 1.13 read pydantic's deprecated `__fields__`.)
    environment_variable: str = PSEUDONYM_KEY_ENV

    def secret(self) -> bytes:
        value = os.environ.get(self.environment_variable)
        if not value:
            raise dg.Failure(f"{self.environment_variable} is not set: refusing to pseudonymise without a secret")
        return value.encode("utf-8")

    def key_id(self) -> str:
        """A short public fingerprint of the key (HMAC of a constant), recorded with releases."""
        from gn_pipelines.privacy.pseudonyms import key_id

        return key_id(self.secret())
