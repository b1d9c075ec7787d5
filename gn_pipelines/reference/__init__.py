"""Reference data the later stages join to: providers, 창원 districts, 읍면동."""

from gn_pipelines.reference.providers import (
    CHANGWON_CODE,
    CHANGWON_DISTRICTS,
    NAKDONG_SIGUN_CODES,
    PROVIDERS,
    PROVIDERS_BY_CODE,
    PROVINCE_CODE,
    SIGUN_CODES,
    Provider,
    codes_allowed_for,
    provider_of_sigungu,
)

__all__ = ["CHANGWON_CODE", "CHANGWON_DISTRICTS", "NAKDONG_SIGUN_CODES", "PROVIDERS", "PROVIDERS_BY_CODE",
           "PROVINCE_CODE", "SIGUN_CODES", "Provider", "codes_allowed_for", "provider_of_sigungu"]
