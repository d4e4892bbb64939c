"""Import open and forthcoming calls from the EU Funding & Tenders Portal (docs/ftportal.md).

``client`` speaks the portal's public search API (SEDIA), ``mapping`` turns its
topics into Call records, ``programmes`` says which knowledge-base programme a
topic belongs to, and ``store`` publishes an import atomically.
"""
