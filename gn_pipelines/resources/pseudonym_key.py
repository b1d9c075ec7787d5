"""The pseudonymisation secret (`GN_PSEUDONYM_KEY_FILE` or `GN_PSEUDONYM_KEY`): read at run time,
never stored or logged; its custody rules live in `privacy/key_custody.py`."""

from __future__ import annotations

import logging
import os

import dagster as dg

from gn_pipelines.settings import PSEUDONYM_KEY_ENV

logger = logging.getLogger(__name__)


def warn_if_pseudonym_key_missing() -> bool:
    """Say loudly, once per process that loads the platform, that the key is unset."""
    if os.environ.get(PSEUDONYM_KEY_ENV) or os.environ.get("GN_PSEUDONYM_KEY_FILE"):
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
        from gn_pipelines.privacy.key_custody import KeyCustodyError, load_secret

        environ = dict(os.environ)
        if self.environment_variable != PSEUDONYM_KEY_ENV:
            environ[PSEUDONYM_KEY_ENV] = environ.get(self.environment_variable, "")
        try:
            return load_secret(environ)
        except KeyCustodyError as error:
            raise dg.Failure(str(error)) from None

    def secret_for(self, zones, *, run_id: str, stage: str) -> bytes:
        """The secret for one use: the data root's key in force (or refused, naming both key
        ids), its use logged in the restricted zone without the key."""
        from gn_pipelines.privacy.key_custody import KeyCustodyError, secret_for_use

        try:
            return secret_for_use(zones, run_id=run_id, stage=stage)
        except KeyCustodyError as error:
            raise dg.Failure(str(error)) from None

    def key_id(self) -> str:
        """A short public fingerprint of the key (HMAC of a constant), recorded with releases."""
        from gn_pipelines.privacy.pseudonyms import key_id

        return key_id(self.secret())
