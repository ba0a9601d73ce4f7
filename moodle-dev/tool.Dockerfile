# The lti-badges tool, built from this repository, for moodle-dev/compose.yaml.
FROM python:3.12-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY lti_badges ./lti_badges
COPY templates ./templates
COPY config ./config
RUN pip install --no-cache-dir .
EXPOSE 5000
CMD ["lti-badges", "serve", "--host", "0.0.0.0", "--port", "5000"]
