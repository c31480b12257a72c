#
# Lets `python main.py spec|check|discover|read ...` run the connector from a checkout, as Airbyte tooling expects.
#
from source_claude.run import run

if __name__ == "__main__":
    run()
