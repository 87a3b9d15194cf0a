-- Neovim configuration of the workstation user (Debian bookworm's Neovim 0.7).
local o = vim.opt
o.number = true
o.relativenumber = true
o.expandtab = true
o.shiftwidth = 2
o.tabstop = 2
o.ignorecase = true
o.smartcase = true
o.mouse = "a"
o.termguicolors = true
o.undofile = false   -- no undo history on disk: an edited file leaves no copy behind
o.swapfile = false   -- likewise no swap files
o.backup = false
o.writebackup = false
o.shada = ""         -- no registers or history written to ~/.local/state
vim.g.mapleader = " "
