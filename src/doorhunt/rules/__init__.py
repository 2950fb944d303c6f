"""Detection rules. `doorhunt.rules.engine` holds the EQL engine (docs/eql.md): one compiler
from Elasticsearch-syntax EQL to streaming predicates, to SQL over the embedded store, and to
the request body of an Elasticsearch cluster's EQL search API."""

from __future__ import annotations
