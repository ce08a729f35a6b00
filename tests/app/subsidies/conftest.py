from tests.app.assessments.conftest import (  # noqa: F401  (fixtures shared with these tests)
    enterprise,
    full_questionnaire,
    signed_in,
    start,
)
