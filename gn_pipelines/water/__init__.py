"""Water-quality core (no Dagster): 하천 생활환경기준 grades, the tributary converter and the 남지 chart."""
