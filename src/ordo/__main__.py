from ordo.cli.app import main

main()
