# The Python package's image (`docker run`, or a custom connector in the Airbyte UI): the connector installed on
# Airbyte's Python connector base image (pinned by digest), running as the base image's non-root user. Airbyte's
# registry builds its own image instead, manifest-only, from metadata.yaml's base image.
# AIRBYTE_ENTRYPOINT must equal ENTRYPOINT for the platform.
FROM docker.io/airbyte/python-connector-base:4.0.2@sha256:9fdb1888c4264cf6fee473649ecb593f56f58e5d0096a87ee0b231777e2e3e73

WORKDIR /airbyte/integration_code
COPY pyproject.toml README.md ./
COPY source_claude ./source_claude
RUN pip install --no-cache-dir . && rm -rf /root/.cache

USER airbyte
ENV AIRBYTE_ENTRYPOINT="source-claude"
ENTRYPOINT ["source-claude"]
