"""gomapcore: everything a debugger plugin knows about Go 1.19 maps, with no debugger inside.

The only door to a debugger is gomapcore.target.Target; gdb_scripts/gomap_gdb.py and
lldb_plugin/gomap_lldb.py implement it and register the commands of gomapcore.commands.
"""
