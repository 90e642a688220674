"""Surveys: definitions (a documented SurveyJS subset), safe condition expressions, templates."""
