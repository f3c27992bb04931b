"""Shipped data dictionaries (QuickFIX's FIX42.xml and FIX44.xml, see
QUICKFIX-LICENSE.txt) and the script that generates ``trading/fix/tags.py`` from them."""
