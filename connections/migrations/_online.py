"""``AddIndexOnline``: an index built with CREATE INDEX CONCURRENTLY on PostgreSQL, so writes to
a large table go on while it builds (a plain CREATE INDEX blocks them for as long as the build
takes). It cannot run in a transaction, so a migration using it sets ``atomic = False``;
elsewhere (SQLite, the embedded default) it is a plain CREATE INDEX. Stopped midway, it can
simply be run again: an index already built is kept, one left invalid is dropped and built
anew. (The leading underscore keeps Django from taking this module for a migration.)
"""

from django.db import migrations


def _built(schema_editor, name: str) -> bool:  # noqa: ANN001
    """Whether a valid index ``name`` exists; an invalid one (a concurrent build interrupted
    midway) is dropped, to be built again. So a migration stopped halfway can be rerun."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = %s AND pg_table_is_visible(c.oid)",
            [name],
        )
        found = cursor.fetchone()
        if found and not found[0]:
            cursor.execute(f'DROP INDEX CONCURRENTLY "{name}"')
    return bool(found and found[0])


class AddIndexOnline(migrations.AddIndex):
    """``AddIndex``, concurrently on PostgreSQL."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):  # noqa: ANN001
        if schema_editor.connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        model = to_state.apps.get_model(app_label, self.model_name)
        alias = schema_editor.connection.alias
        if self.allow_migrate_model(alias, model) and not _built(schema_editor, self.index.name):
            schema_editor.add_index(model, self.index, concurrently=True)
        return None

    def database_backwards(self, app_label, schema_editor, from_state, to_state):  # noqa: ANN001
        if schema_editor.connection.vendor != "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.remove_index(model, self.index, concurrently=True)
        return None
